import Foundation

/// The claims of an access token issued through the Cognito-compatible API (contract §11.4):
/// Cognito's shape, `iss` = `<public_url>/<pool id>`, no `aud`, header `typ: JWT`.
public struct CognitoAccessTokenClaims: RegisteredClaims, JSONObjectWritable, Equatable {
    public static let type = "JWT"

    public var iss: String
    public var sub: String
    public var clientID: String
    /// The refresh family the token descends from: revoking it revokes the token.
    public var originJTI: String
    public var eventID: String
    public var tokenUse: String
    public var scope: String
    public var authTime: Int
    public var exp: Int
    public var iat: Int
    public var jti: String
    /// The user id (Cognito's immutable user name).
    public var username: String
    public var groups: [String]?

    /// Cognito's access tokens name no audience.
    public var aud: Audience { .many([]) }
    public var nbf: Int? { nil }

    enum CodingKeys: String, CodingKey {
        case iss, sub, scope, exp, iat, jti, username
        case clientID = "client_id"
        case originJTI = "origin_jti"
        case eventID = "event_id"
        case tokenUse = "token_use"
        case authTime = "auth_time"
        case groups = "cognito:groups"
    }

    public init(
        iss: String, sub: String, clientID: String, originJTI: String, eventID: String, scope: String, authTime: Int, exp: Int, iat: Int,
        jti: String, username: String, groups: [String]?
    ) {
        self.iss = iss
        self.sub = sub
        self.clientID = clientID
        self.originJTI = originJTI
        self.eventID = eventID
        self.tokenUse = "access"
        self.scope = scope
        self.authTime = authTime
        self.exp = exp
        self.iat = iat
        self.jti = jti
        self.username = username
        self.groups = groups
    }

    public func write(to writer: inout JSONObjectWriter) {
        writer.add("sub", sub)
        writer.add("cognito:groups", groups)
        writer.add("iss", iss)
        writer.add("client_id", clientID)
        writer.add("origin_jti", originJTI)
        writer.add("event_id", eventID)
        writer.add("token_use", tokenUse)
        writer.add("scope", scope)
        writer.add("auth_time", authTime)
        writer.add("exp", exp)
        writer.add("iat", iat)
        writer.add("jti", jti)
        writer.add("username", username)
    }

    /// Cognito's name for the scope of the user's own account API, which is Tessera's `account`.
    public static let accountScope = "aws.cognito.signin.user.admin"

    /// The same token as Tessera's own endpoints check it: Cognito's account scope read as `account`.
    public var asAccessTokenClaims: AccessTokenClaims {
        let scope = self.scope.split(separator: " ").map { $0 == Self.accountScope ? Scope.account : String($0) }.joined(separator: " ")
        return AccessTokenClaims(
            iss: iss, sub: sub, aud: .many([]), exp: exp, iat: iat, jti: jti, clientID: clientID, scope: scope, authTime: authTime, groups: groups)
    }
}

/// The claims of an ID token issued through the Cognito-compatible API: Cognito's shape, with
/// the user's attributes as members (every value a string but `email_verified`, a boolean).
public struct CognitoIDTokenClaims: Encodable, JSONObjectWritable, Sendable {
    public var iss: String
    public var sub: String
    public var aud: String
    public var originJTI: String
    public var eventID: String
    public var authTime: Int
    public var exp: Int
    public var iat: Int
    public var jti: String
    public var username: String
    public var email: String
    public var emailVerified: Bool
    public var groups: [String]?
    /// The user's other attributes (standard and `custom:*`), by name.
    public var attributes: [String: String]

    public init(
        iss: String, sub: String, aud: String, originJTI: String, eventID: String, authTime: Int, exp: Int, iat: Int, jti: String,
        username: String, email: String, emailVerified: Bool, groups: [String]?, attributes: [String: String]
    ) {
        self.iss = iss
        self.sub = sub
        self.aud = aud
        self.originJTI = originJTI
        self.eventID = eventID
        self.authTime = authTime
        self.exp = exp
        self.iat = iat
        self.jti = jti
        self.username = username
        self.email = email
        self.emailVerified = emailVerified
        self.groups = groups
        self.attributes = attributes
    }

    /// Members the token sets itself; an attribute of the same name never replaces one.
    static let reserved: Set<String> = [
        "sub", "aud", "iss", "token_use", "cognito:username", "cognito:groups", "email", "email_verified", "auth_time", "exp", "iat",
        "jti", "origin_jti", "event_id", "nbf",
    ]

    /// One member's value.
    enum Member {
        case string(String)
        case number(Int)
        case boolean(Bool)
        case strings([String])
    }

    /// Every member in the order the token lists them: the one list both encodings read.
    var members: [(String, Member)] {
        var members: [(String, Member)] = [("sub", .string(sub))]
        if let groups { members.append(("cognito:groups", .strings(groups))) }
        members += [
            ("email_verified", .boolean(emailVerified)), ("iss", .string(iss)), ("cognito:username", .string(username)),
            ("origin_jti", .string(originJTI)), ("aud", .string(aud)), ("event_id", .string(eventID)), ("token_use", .string("id")),
            ("auth_time", .number(authTime)), ("exp", .number(exp)), ("iat", .number(iat)), ("jti", .string(jti)), ("email", .string(email)),
        ]
        for (name, value) in attributes.sorted(by: { $0.key < $1.key }) where !Self.reserved.contains(name) {
            members.append((name, .string(value)))
        }
        return members
    }

    public func write(to writer: inout JSONObjectWriter) {
        for (name, member) in members {
            switch member {
            case .string(let value): writer.add(name, value)
            case .number(let value): writer.add(name, value)
            case .boolean(let value): writer.add(name, value)
            case .strings(let values): writer.add(name, values)
            }
        }
    }

    struct MemberKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: MemberKey.self)
        for (name, member) in members {
            let key = MemberKey(stringValue: name)
            switch member {
            case .string(let value): try container.encode(value, forKey: key)
            case .number(let value): try container.encode(value, forKey: key)
            case .boolean(let value): try container.encode(value, forKey: key)
            case .strings(let values): try container.encode(values, forKey: key)
            }
        }
    }
}
