import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TesseraCore

/// Tessera's few server-rendered pages: plain HTML, one inline stylesheet, no scripts, no
/// third-party assets, every interpolated value escaped, strict security headers.
enum HTMLPage {
    /// Escapes text for HTML element content and quoted attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    static let style = """
        body{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a}
        h1{font-size:1.4rem}label{display:block;margin-top:1rem;font-weight:600}
        input{width:100%;box-sizing:border-box;padding:.6rem;margin-top:.3rem;font-size:1rem;border:1px solid #767676;border-radius:4px}
        button{margin-top:1.5rem;width:100%;padding:.7rem;font-size:1rem;background:#0b57d0;color:#fff;border:0;border-radius:4px;cursor:pointer}
        button:focus,input:focus{outline:3px solid #f0b400;outline-offset:1px}
        .error{background:#fdecea;color:#611a15;padding:.7rem;border-radius:4px;margin-top:1rem}
        .notice{background:#e6f4ea;color:#0d3b1e;padding:.7rem;border-radius:4px;margin-top:1rem}
        """

    /// A complete page with the security headers. `formAction` lists the extra origins a form
    /// may lead to (the client's redirect origin, since the login form redirects there).
    static func response(status: HTTPResponse.Status = .ok, title: String, body: String, formAction: [String] = []) -> Response {
        let html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title))</title><style>\(style)</style></head>
            <body><main>\(body)</main></body></html>
            """
        let csp = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
            + formAction.map { " " + $0 }.joined()
        let headers: HTTPFields = [
            .contentType: "text/html; charset=utf-8",
            .cacheControl: "no-store",
            .contentSecurityPolicy: csp,
            HTTPField.Name("X-Frame-Options")!: "DENY",
            HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            HTTPField.Name("Referrer-Policy")!: "no-referrer",
        ]
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// An error that must not be redirected (unknown client, unregistered redirect URI).
    static func error(_ message: String, status: HTTPResponse.Status = .badRequest) -> Response {
        response(status: status, title: "Sign-in error", body: """
            <h1>Sign-in cannot continue</h1><p role="alert" class="error">\(escape(message))</p>
            <p>Go back to the application and try again.</p>
            """)
    }

    /// The hosted login form. It posts back to the authorization endpoint with the original
    /// parameters and a CSRF token.
    static func login(
        request: AuthorizationRequest, csrf: String, email: String?, error: String?, notice: String? = nil, hostedSignup: Bool,
        status: HTTPResponse.Status = .ok
    ) -> Response {
        let alert = error.map { #"<p role="alert" class="error" id="login-error">\#(escape($0))</p>"# } ?? ""
            + (notice.map { #"<p role="status" class="notice">\#(escape($0))</p>"# } ?? "")
        let signUp = hostedSignup ? #" · <a href="\#(escape(link("/oauth2/signup", request)))">Create account</a>"# : ""
        let described = error == nil ? "" : #" aria-describedby="login-error""#
        return response(status: status, title: "Sign in", body: """
            <h1>Sign in to \(escape(request.client.name))</h1>\(alert)
            <form method="post" action="/oauth2/authorize">
            \(hiddenFields(request.parameters, csrf: csrf))
            <label for="email">Email</label>
            <input id="email" name="email" type="email" autocomplete="username" required value="\(escape(email ?? ""))"\(described)>
            <label for="password">Password</label>
            <input id="password" name="password" type="password" autocomplete="current-password" required\(described)>
            <button type="submit">Sign in</button>
            </form>
            <p><a href="\(escape(link("/oauth2/recover", request)))">Forgot password?</a>\(signUp)</p>
            """, formAction: [origin(of: request.redirectURI)].compactMap { $0 })
    }

    /// A hosted page's address carrying the pending authorization request.
    static func link(_ path: String, _ request: AuthorizationRequest) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return path + "?" + request.parameters.sorted { $0.key < $1.key }
            .map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
    }

    /// The consent page (`prompt=consent`): what the application asks for, allow or decline.
    static func consent(request: AuthorizationRequest, csrf: String) -> Response {
        let scopes = request.scope.tokens.map { "<li>\(escape(describe(scope: $0)))</li>" }.joined()
        return response(title: "Allow access", body: """
            <h1>\(escape(request.client.name)) asks for access</h1>
            <p>It will be able to:</p><ul>\(scopes)</ul>
            <form method="post" action="/oauth2/authorize">
            \(hiddenFields(request.parameters, csrf: csrf))
            <button type="submit" name="consent" value="allow">Allow</button>
            <button type="submit" name="consent" value="deny">Decline</button>
            </form>
            """, formAction: [origin(of: request.redirectURI)].compactMap { $0 })
    }

    /// What a scope lets an application do, in words.
    static func describe(scope: String) -> String {
        switch scope {
        case Scope.openID: "confirm who you are"
        case Scope.email: "see your email address"
        case Scope.profile: "see your profile (name and other details you gave)"
        case Scope.offlineAccess: "stay signed in when you are away"
        case Scope.account: "read and change your account"
        case Scope.groups: "see which groups you are in"
        default: "use \(scope)"
        }
    }

    /// RP-Initiated Logout without proof that the user asked for it: ask.
    /// `returnTo` is the registered address the sign-out then redirects to (allowed by the CSP).
    static func confirmLogout(parameters: [String: String], csrf: String, returnTo: String?) -> Response {
        response(title: "Sign out", body: """
            <h1>Sign out?</h1><p>An application asks to sign you out. To stay signed in, close this window.</p>
            <form method="post" action="/oauth2/logout">
            \(hiddenFields(parameters, csrf: csrf))
            <button type="submit">Sign out</button>
            </form>
            """, formAction: [returnTo.flatMap(origin(of:))].compactMap { $0 })
    }

    /// The CSRF token and `parameters` as hidden inputs, in a stable order.
    static func hiddenFields(_ parameters: [String: String], csrf: String) -> String {
        #"<input type="hidden" name="csrf_token" value="\#(escape(csrf))">"#
            + parameters.sorted { $0.key < $1.key }.map { #"<input type="hidden" name="\#(escape($0.key))" value="\#(escape($0.value))">"# }.joined()
    }

    static func signedOut() -> Response {
        response(title: "Signed out", body: "<h1>You are signed out</h1><p>You can close this window.</p>")
    }

    /// `scheme://host[:port]` of a URL, for CSP.
    static func origin(of uri: String) -> String? {
        guard let components = URLComponents(string: uri), let scheme = components.scheme, let host = components.host else { return nil }
        return "\(scheme)://\(host)" + (components.port.map { ":\($0)" } ?? "")
    }
}
