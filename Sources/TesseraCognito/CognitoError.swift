import TesseraCore

/// A Cognito API error (contract §11.1): `__type` and `message` as Cognito names them, HTTP 400
/// (500 only for `InternalErrorException`). Every failure of an operation ends as one of these,
/// mapped in ``CognitoError/init(_:)`` — the one place the core's errors meet Cognito's names.
public struct CognitoError: Error, Equatable, Sendable {
    public let code: String
    public let message: String

    public init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }

    /// 500 for the service's own failure, else 400.
    public var status: Int { code == "InternalErrorException" ? 500 : 400 }

    static func invalidParameter(_ message: String) -> CognitoError { CognitoError("InvalidParameterException", message) }
    static func notAuthorized(_ message: String) -> CognitoError { CognitoError("NotAuthorizedException", message) }
    static let incorrectCredentials = notAuthorized("Incorrect username or password.")
    static let invalidAccessToken = notAuthorized("Invalid Access Token")
    static let revokedAccessToken = notAuthorized("Access Token has been revoked")
    static let invalidRefreshToken = notAuthorized("Invalid Refresh Token")
    static let revokedRefreshToken = notAuthorized("Refresh Token has been revoked")
    static let codeMismatch = CognitoError("CodeMismatchException", "Invalid verification code provided, please try again.")
    static let userNotFound = CognitoError("UserNotFoundException", "User does not exist.")
    static let internalError = CognitoError("InternalErrorException", "An internal error occurred.")

    static func clientNotFound(_ id: String) -> CognitoError {
        CognitoError("ResourceNotFoundException", "User pool client \(id) does not exist.")
    }

    /// The Cognito answer for an error of the core's services.
    init(_ error: any Error) {
        switch error {
        case let error as CognitoError:
            self = error
        case let error as AccountError:
            self = Self.from(error)
        case let error as BearerError:
            if case .invalidToken(let reason) = error, reason.contains("revoked") || reason.contains("sign-out") {
                self = .revokedAccessToken
            } else if case .insufficientScope = error {
                self = .notAuthorized("Access Token does not have required scopes")
            } else {
                self = .invalidAccessToken
            }
        case let error as GroupError:
            switch error {
            case .invalidName: self = .invalidParameter("1 validation error detected: Value at 'groupName' failed to satisfy constraint")
            case .invalidDescription: self = .invalidParameter("1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 2048")
            case .invalidPrecedence: self = .invalidParameter("1 validation error detected: Value at 'precedence' failed to satisfy constraint: Member must have value greater than or equal to 0")
            case .alreadyExists: self = CognitoError("GroupExistsException", "A group with the name already exists.")
            case .noSuchGroup: self = CognitoError("ResourceNotFoundException", "Group not found.")
            case .noSuchUser: self = .userNotFound
            }
        case StorageError.unavailable:
            self = .internalError
        default:
            self = .internalError
        }
    }

    private static func from(_ error: AccountError) -> CognitoError {
        switch error {
        case .invalidRequest(let message): .invalidParameter(message)
        case .invalidEmail: .invalidParameter("Invalid email address format.")
        case .weakPassword(let reason): CognitoError("InvalidPasswordException", "Password did not conform with policy: \(reason)")
        case .emailTaken: CognitoError("UsernameExistsException", "An account with the given email already exists.")
        case .signupRejected(let reason): CognitoError("UserLambdaValidationException", "PreSignUp failed with error \(reason).")
        case .hookFailed: CognitoError("UnexpectedLambdaException", "PreSignUp invocation failed.")
        case .migrationUnavailable: CognitoError("UnexpectedLambdaException", "UserMigration invocation failed: migration_unavailable.")
        case .invalidCredentials: .incorrectCredentials
        case .userDisabled: .notAuthorized("User is disabled.")
        case .userUnconfirmed: CognitoError("UserNotConfirmedException", "User is not confirmed.")
        case .passwordChangeRequired: .notAuthorized("A new password is required.")
        case .passwordResetRequired: CognitoError("PasswordResetRequiredException", "Password reset required for the user")
        case .tooManyAttempts: .notAuthorized("Password attempts exceeded")
        case .tooManyRequests, .busy: CognitoError("TooManyRequestsException", "Too many requests")
        case .invalidClient(let message): .notAuthorized(message)
        case .invalidScope(let message): .invalidParameter(message)
        case .invalidGrant(let reason):
            reason.contains("revoked") || reason.contains("reuse") || reason.contains("signed out") ? .revokedRefreshToken : .invalidRefreshToken
        case .invalidCode(.mismatch): .codeMismatch
        case .invalidCode(.expired): CognitoError("ExpiredCodeException", "Invalid code provided, please request a code again.")
        case .invalidCode(.exhausted): CognitoError("LimitExceededException", "Attempt limit exceeded, please try after some time.")
        case .notFound: .userNotFound
        case .emailUnverified, .primaryEmail: .invalidParameter("\(error)")
        case .preconditionRequired, .preconditionFailed: CognitoError("ConcurrentModificationException", "The user was changed concurrently; try again.")
        }
    }
}
