import HTTPTypes
import Hummingbird
import TesseraCore

/// The hosted sign-up, code and recovery pages (contract §8.4).
extension HTMLPage {
    private static func alert(_ error: String?) -> String {
        error.map { #"<p role="alert" class="error">\#(escape($0))</p>"# } ?? ""
    }

    private static func backToSignIn(_ request: AuthorizationRequest) -> String {
        #"<p><a href="\#(escape(link("/oauth2/authorize", request)))">Back to sign-in</a></p>"#
    }

    static func signUp(request: AuthorizationRequest, csrf: String, email: String?, error: String?, status: HTTPResponse.Status = .ok) -> Response {
        response(status: status, title: "Create account", body: """
            <h1>Create an account for \(escape(request.client.name))</h1>\(alert(error))
            <form method="post" action="/oauth2/signup">
            \(hiddenFields(request.parameters, csrf: csrf))
            <label for="email">Email</label>
            <input id="email" name="email" type="email" autocomplete="email" required value="\(escape(email ?? ""))">
            <label for="password">Password</label>
            <input id="password" name="password" type="password" autocomplete="new-password" minlength="8" required>
            <button type="submit">Create account</button>
            </form>
            \(backToSignIn(request))
            """, formAction: [origin(of: request.redirectURI)].compactMap { $0 })
    }

    /// The code page: the code mailed to `email`, and `proof` that this browser may be signed in.
    static func code(
        request: AuthorizationRequest, csrf: String, email: String, proof: String, notice: String?, error: String?, status: HTTPResponse.Status = .ok
    ) -> Response {
        let status_ = notice.map { #"<p role="status" class="notice">\#(escape($0))</p>"# } ?? ""
        return response(status: status, title: "Enter your code", body: """
            <h1>Enter the code we sent you</h1>\(status_)\(alert(error))
            <form method="post" action="/oauth2/verify">
            \(hiddenFields(request.parameters.merging(["email": email, "proof": proof]) { $1 }, csrf: csrf))
            <label for="code">Code</label>
            <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required>
            <button type="submit">Continue</button>
            </form>
            \(backToSignIn(request))
            """, formAction: [origin(of: request.redirectURI)].compactMap { $0 })
    }

    static func recoverRequest(request: AuthorizationRequest, csrf: String, email: String?, error: String?, status: HTTPResponse.Status = .ok) -> Response {
        response(status: status, title: "Reset your password", body: """
            <h1>Reset your password</h1>\(alert(error))
            <p>Enter your email address. If it belongs to an account, we will send it a code.</p>
            <form method="post" action="/oauth2/recover">
            \(hiddenFields(request.parameters, csrf: csrf))
            <label for="email">Email</label>
            <input id="email" name="email" type="email" autocomplete="username" required value="\(escape(email ?? ""))">
            <button type="submit">Send code</button>
            </form>
            \(backToSignIn(request))
            """)
    }

    static func recoverReset(request: AuthorizationRequest, csrf: String, email: String, error: String?, status: HTTPResponse.Status = .ok) -> Response {
        response(status: status, title: "Choose a new password", body: """
            <h1>Choose a new password</h1>\(alert(error))
            <p role="status" class="notice">If \(escape(email)) belongs to an account, a code is on its way to it.</p>
            <form method="post" action="/oauth2/recover">
            \(hiddenFields(request.parameters.merging(["email": email]) { $1 }, csrf: csrf))
            <label for="code">Code</label>
            <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required>
            <label for="password">New password</label>
            <input id="password" name="password" type="password" autocomplete="new-password" minlength="8" required>
            <button type="submit">Change password</button>
            </form>
            \(backToSignIn(request))
            """)
    }
}
