import Foundation
import HTTPTypes
import Hummingbird
import TesseraCore

/// The hosted account pages beside the sign-in page (contract §8.4): sign-up, the code page
/// and recovery. Each carries the pending authorization request in hidden fields, so the user
/// comes back to the client afterwards; each form has a CSRF token; the answers, limits and
/// code rules are the JSON endpoints' own (the same services).
extension AuthorizeController {
    static let signUpPath = "/oauth2/signup"
    static let verifyPath = "/oauth2/verify"
    static let recoverPath = "/oauth2/recover"

    func addAccountPageRoutes(to router: Router<TesseraRequestContext>) {
        router.get(RouterPath(Self.signUpPath), use: signUpPage)
        router.post(RouterPath(Self.signUpPath), use: submitSignUp)
        router.post(RouterPath(Self.verifyPath), use: submitCode)
        router.get(RouterPath(Self.recoverPath), use: recoverPage)
        router.post(RouterPath(Self.recoverPath), use: submitRecovery)
    }

    /// The authorization request behind a page, from the query (a link) or the form's hidden
    /// fields; an error page when it is not a valid request.
    private func pendingRequest(_ parameters: [String: String]) async throws -> Pending {
        do {
            return .success(try await validate(parameters))
        } catch let failure as AuthorizationRequest.Failure {
            return .failure(respond(to: failure))
        }
    }

    /// A page's authorization request, or the page that refuses it.
    private enum Pending {
        case success(AuthorizationRequest)
        case failure(Response)
    }

    /// A page's posted form: the pending authorization request from its hidden fields, the
    /// page's own fields, and whether its CSRF token matches the cookie.
    private struct PostedForm {
        let pending: AuthorizationRequest
        let values: [String: String]
        let csrf: String
        let csrfValid: Bool
        var email: String { values["email"] ?? "" }
    }

    /// A posted form, or the page that answers it when it cannot be read or its request is
    /// not a valid one.
    private enum Posted {
        case form(PostedForm)
        case page(Response)
    }

    private func posted(_ request: Request, context: TesseraRequestContext, fields: [String]) async throws -> Posted {
        guard var parameters = try? await FormBody.parameters(of: request, context: context),
              let csrf = parameters.removeValue(forKey: "csrf_token")
        else { return .page(HTMLPage.error("The form could not be read.")) }
        var values: [String: String] = [:]
        for field in fields { values[field] = parameters.removeValue(forKey: field) }
        switch try await pendingRequest(parameters) {
        case .failure(let page): return .page(page)
        case .success(let pending): return .form(PostedForm(pending: pending, values: values, csrf: csrf, csrfValid: csrfMatches(csrf, request)))
        }
    }

    // MARK: Sign-up

    @Sendable func signUpPage(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        guard settings.hostedSignup else { return HTMLPage.error("Sign-up is not offered here.", status: .notFound) }
        guard let parameters = queryParameters(request) else { return HTMLPage.error("A parameter of the request is repeated or malformed.") }
        switch try await pendingRequest(parameters) {
        case .failure(let page): return page
        case .success(let pending): return withCSRF { HTMLPage.signUp(request: pending, csrf: $0, email: nil, error: nil) }
        }
    }

    @Sendable func submitSignUp(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        guard settings.hostedSignup else { return HTMLPage.error("Sign-up is not offered here.", status: .notFound) }
        let posted: PostedForm
        switch try await self.posted(request, context: context, fields: ["email", "password"]) {
        case .page(let page): return page
        case .form(let form): posted = form
        }
        let (pending, email) = (posted.pending, posted.email)
        func again(_ message: String, _ status: HTTPResponse.Status) -> Response {
            withCSRF { HTMLPage.signUp(request: pending, csrf: $0, email: email, error: message, status: status) }
        }
        guard posted.csrfValid else { return again("Your sign-up form expired. Please try again.", .forbidden) }
        let user: User
        do {
            user = try await accounts.signUp(email: email, password: posted.values["password"] ?? "", attributes: [:], clientIP: context.clientIP)
        } catch let error as AccountError {
            switch error {
            case .invalidEmail: return again("Enter a valid email address.", .badRequest)
            case .weakPassword(let reason): return again("Choose a stronger password: \(reason).", .badRequest)
            case .emailTaken: return again("An account with this email already exists. Sign in instead.", .conflict)
            case .signupRejected(let reason): return again(reason, .forbidden)
            case .tooManyRequests: return again("Too many sign-ups from your network. Please wait and try again.", .tooManyRequests)
            default: return again("Sign-up could not be completed. Please try again later.", .serviceUnavailable)
            }
        }
        guard user.status == .active else {
            // require_email_verification: the code the sign-up mailed, then signed in.
            return codePage(email: user.email, pending, notice: "We sent a code to \(user.email). Enter it to finish.")
        }
        return try await signedIn(user, pending)
    }

    // MARK: Verification

    /// After a right password for an account whose address is not verified yet: a new code
    /// (within the resend limits) and the code page.
    func verificationStep(email: String, _ pending: AuthorizationRequest, clientIP: String) async throws -> Response {
        try? await lifecycle.requestVerification(email: email, clientIP: clientIP)
        return codePage(email: email, pending, notice: "Confirm your address first: we sent a code to \(email).")
    }

    /// The code page, with proof (bound to the page's CSRF token) that this browser may be
    /// signed in as the account of `email` once the code is right.
    private func codePage(email: String, _ pending: AuthorizationRequest, notice: String?, error: String? = nil, status: HTTPResponse.Status = .ok) -> Response {
        let key = email.lowercased()
        let now = accounts.now()
        return withCSRF { csrf in
            HTMLPage.code(
                request: pending, csrf: csrf, email: email,
                proof: lifecycle.mail.pendingSignIn(emailKey: key, binding: csrf, now: now), notice: notice, error: error, status: status)
        }
    }

    @Sendable func submitCode(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let posted: PostedForm
        switch try await self.posted(request, context: context, fields: ["email", "code", "proof"]) {
        case .page(let page): return page
        case .form(let form): posted = form
        }
        let (pending, email, proof) = (posted.pending, posted.email, posted.values["proof"] ?? "")
        guard posted.csrfValid,
              lifecycle.mail.verifyPendingSignIn(proof, emailKey: email.lowercased(), binding: posted.csrf, now: accounts.now())
        else {
            return loginForm(pending, email: email, error: "The page expired. Please sign in again.", status: .forbidden)
        }
        let user: User
        do {
            user = try await lifecycle.verifyEmail(email: email, code: posted.values["code"] ?? "", clientIP: context.clientIP)
        } catch AccountError.tooManyRequests {
            return codePage(email: email, pending, notice: nil, error: "Too many attempts. Please wait and try again.", status: .tooManyRequests)
        } catch AccountError.invalidCode {
            return codePage(email: email, pending, notice: nil, error: "That code is not valid. Check the latest message we sent.", status: .badRequest)
        }
        return try await signedIn(user, pending)
    }

    // MARK: Recovery

    @Sendable func recoverPage(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        guard let parameters = queryParameters(request) else { return HTMLPage.error("A parameter of the request is repeated or malformed.") }
        switch try await pendingRequest(parameters) {
        case .failure(let page): return page
        case .success(let pending): return withCSRF { HTMLPage.recoverRequest(request: pending, csrf: $0, email: nil, error: nil) }
        }
    }

    /// The email step (mails a code, answering alike for every address) or, with `code`, the
    /// reset step (back to the sign-in page with a notice; no automatic sign-in).
    @Sendable func submitRecovery(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let posted: PostedForm
        switch try await self.posted(request, context: context, fields: ["email", "code", "password"]) {
        case .page(let page): return page
        case .form(let form): posted = form
        }
        let (pending, email) = (posted.pending, posted.email)
        guard posted.csrfValid else {
            return withCSRF { HTMLPage.recoverRequest(request: pending, csrf: $0, email: email, error: "The page expired. Please try again.", status: .forbidden) }
        }
        guard let code = posted.values["code"] else {
            do {
                try await lifecycle.forgotPassword(email: email, clientIP: context.clientIP)
            } catch AccountError.invalidEmail {
                return withCSRF { HTMLPage.recoverRequest(request: pending, csrf: $0, email: email, error: "Enter a valid email address.", status: .badRequest) }
            } catch AccountError.tooManyRequests {
                return withCSRF { HTMLPage.recoverRequest(request: pending, csrf: $0, email: email, error: "Too many requests. Please wait and try again.", status: .tooManyRequests) }
            }
            return withCSRF { HTMLPage.recoverReset(request: pending, csrf: $0, email: email, error: nil) }
        }
        func again(_ message: String, _ status: HTTPResponse.Status) -> Response {
            withCSRF { HTMLPage.recoverReset(request: pending, csrf: $0, email: email, error: message, status: status) }
        }
        do {
            _ = try await lifecycle.resetPassword(email: email, code: code, password: posted.values["password"] ?? "", clientIP: context.clientIP)
        } catch let error as AccountError {
            switch error {
            case .weakPassword(let reason): return again("Choose a stronger password: \(reason).", .badRequest)
            case .tooManyRequests: return again("Too many attempts. Please wait and try again.", .tooManyRequests)
            default: return again("That code is not valid. Check the latest message we sent, or ask for a new one.", .badRequest)
            }
        }
        return withCSRF { HTMLPage.login(request: pending, csrf: $0, email: email, error: nil, notice: "Your password was changed. Sign in with the new one.", hostedSignup: settings.hostedSignup) }
    }
}
