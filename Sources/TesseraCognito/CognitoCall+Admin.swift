import Foundation
import TesseraCore

/// The admin operations (contract §11.3): SigV4-signed, on this pool, each written to the
/// audit log with its access key.
extension CognitoCall {
    static let adminOperations: Set<String> = [
        "AdminCreateUser", "AdminGetUser", "AdminDeleteUser", "AdminDisableUser", "AdminEnableUser", "AdminSetUserPassword",
        "AdminConfirmSignUp", "AdminUpdateUserAttributes", "AdminDeleteUserAttributes", "AdminUserGlobalSignOut", "AdminResetUserPassword",
        "AdminInitiateAuth", "AdminRespondToAuthChallenge", "ListUsers", "CreateGroup", "GetGroup", "ListGroups", "DeleteGroup",
        "UpdateGroup", "AdminAddUserToGroup", "AdminRemoveUserFromGroup", "AdminListGroupsForUser", "ListUsersInGroup", "DescribeUserPool",
        "DescribeUserPoolClient", "GetCSVHeader",
    ]

    /// Runs an admin operation: the pool checked, the action audited once it succeeded.
    func performAdmin(_ operation: String) async throws -> [String: Any]? {
        guard Self.adminOperations.contains(operation) else { return nil }
        let pool = try input.required("UserPoolId")
        guard pool == api.poolID else { throw CognitoError("ResourceNotFoundException", "User pool \(pool) does not exist.") }
        let output: [String: Any] = switch operation {
        case "AdminCreateUser": try await adminCreateUser()
        case "AdminGetUser": try await adminGetUser()
        case "AdminDeleteUser": try await adminDeleteUser()
        case "AdminDisableUser": try await adminSetEnabled(false)
        case "AdminEnableUser": try await adminSetEnabled(true)
        case "AdminSetUserPassword": try await adminSetUserPassword()
        case "AdminConfirmSignUp": try await adminConfirmSignUp()
        case "AdminUpdateUserAttributes": try await adminUpdateUserAttributes()
        case "AdminDeleteUserAttributes": try await adminDeleteUserAttributes()
        case "AdminUserGlobalSignOut": try await adminUserGlobalSignOut()
        case "AdminResetUserPassword": try await adminResetUserPassword()
        case "AdminInitiateAuth": try await adminInitiateAuth()
        case "AdminRespondToAuthChallenge": try await respondToAuthChallenge()
        case "ListUsers": try await listUsers()
        case "CreateGroup": try await createGroup()
        case "GetGroup": ["Group": groupType(try await services.groups.group(named: try input.required("GroupName")))]
        case "UpdateGroup": try await updateGroup()
        case "ListGroups": try await listGroups()
        case "DeleteGroup": try await deleteGroup()
        case "AdminAddUserToGroup": try await adminAddUserToGroup()
        case "AdminRemoveUserFromGroup": try await adminRemoveUserFromGroup()
        case "AdminListGroupsForUser": try await adminListGroupsForUser()
        case "ListUsersInGroup": try await listUsersInGroup()
        case "DescribeUserPool": try await describeUserPool()
        case "DescribeUserPoolClient": try await describeUserPoolClient()
        default: ["UserPoolId": api.poolID, "CSVHeader": Self.csvHeader]
        }
        let target = (try? input.string("Username")).flatMap { $0 }.map { "user \($0)" }
            ?? (try? input.string("GroupName")).flatMap { $0 }.map { "group \($0)" }
        try await services.store.recordAdminAction(
            actor: "access key \(accessKeyID ?? "?")", action: "cognito.\(operation)", target: target, details: nil, now: Date())
        return output
    }

    // MARK: Users

    /// The user `Username` names; `UserNotFoundException` when none.
    func namedUser() async throws -> User {
        guard let user = try await user(named: try input.required("Username")) else { throw CognitoError.userNotFound }
        return user
    }

    /// `UserStatusType`: the password's state first, then confirmation.
    static func userStatus(_ user: User) -> String {
        switch user.passwordState {
        case .temporary: "FORCE_CHANGE_PASSWORD"
        case .resetRequired: "RESET_REQUIRED"
        case .permanent: CognitoAttributes.status(user)
        }
    }

    /// `UserType` (`Attributes`) or the members of `AdminGetUserResponse` (`UserAttributes`).
    static func userType(_ user: User, attributesKey: String = "Attributes", only names: Set<String>? = nil) -> [String: Any] {
        [
            "Username": user.id, attributesKey: CognitoAttributes.list(user, only: names),
            "UserCreateDate": user.createdAt.timeIntervalSince1970, "UserLastModifiedDate": user.updatedAt.timeIntervalSince1970,
            "Enabled": user.status != .disabled, "UserStatus": userStatus(user),
        ]
    }

    func adminCreateUser() async throws -> [String: Any] {
        let username = try input.required("Username")
        let attributes = try input.attributes("UserAttributes")
        let action = try input.string("MessageAction")
        if action == "RESEND" {
            let user = try await namedUser()
            _ = try await services.lifecycle.sendRecovery(to: user)
            return ["User": Self.userType(user)]
        }
        guard action == nil || action == "SUPPRESS" else {
            throw CognitoError.invalidParameter("1 validation error detected: Value at 'messageAction' failed to satisfy constraint: Member must satisfy enum value set: [RESEND, SUPPRESS]")
        }
        guard username.contains("@") else { throw CognitoError.invalidParameter("Username should be an email.") }
        if let email = attributes.first(where: { $0.name == "email" })?.value, email.lowercased() != username.lowercased() {
            throw CognitoError.invalidParameter("Username should be the email attribute's value.")
        }
        let verified = attributes.first { $0.name == "email_verified" }?.value == "true"
        let password = try input.string("TemporaryPassword")
            ?? Base64URL.encode(services.crypto.randomBytes(18))
        let user: User
        do {
            user = try await services.accounts.createByOperator(
                email: username, password: password, temporary: true, emailVerified: verified,
                attributes: try CognitoAttributes.writable(attributes.filter { $0.name != "email_verified" }))
        } catch AccountError.emailTaken {
            throw CognitoError("UsernameExistsException", "User account already exists")
        }
        // Tessera never mails a password: unless suppressed, the invitation is a recovery code
        // with which the user chooses their own.
        if action == nil { _ = try await services.lifecycle.sendRecovery(to: user) }
        return ["User": Self.userType(user)]
    }

    func adminGetUser() async throws -> [String: Any] {
        var output = Self.userType(try await namedUser(), attributesKey: "UserAttributes")
        output["UserMFASettingList"] = [String]()
        return output
    }

    func adminDeleteUser() async throws -> [String: Any] {
        let user = try await namedUser()
        try await services.store.deleteUser(id: user.id, farewell: nil, now: Date())
        return [:]
    }

    func adminSetEnabled(_ enabled: Bool) async throws -> [String: Any] {
        let user = try await namedUser()
        if enabled {
            if user.status == .disabled { try await services.store.setStatus(userID: user.id, .active, now: Date()) }
        } else if user.status != .disabled {
            try await services.store.setStatus(userID: user.id, .disabled, now: Date())
        }
        return [:]
    }

    func adminSetUserPassword() async throws -> [String: Any] {
        let user = try await namedUser()
        let password = try input.required("Password")
        try await services.accounts.setPasswordByOperator(userID: user.id, password: password, temporary: !(try input.bool("Permanent") ?? false))
        return [:]
    }

    func adminConfirmSignUp() async throws -> [String: Any] {
        let user = try await namedUser()
        guard user.status == .unconfirmed else {
            throw CognitoError.notAuthorized("User cannot be confirmed. Current status is \(Self.userStatus(user))")
        }
        try await services.store.setStatus(userID: user.id, .active, now: Date())
        return [:]
    }

    func adminUpdateUserAttributes() async throws -> [String: Any] {
        let user = try await namedUser()
        let attributes = try input.attributes("UserAttributes")
        if let email = attributes.first(where: { $0.name == "email" }), email.value.lowercased() != user.email.lowercased() {
            throw CognitoError.invalidParameter("Changing email through the Cognito API is not supported: add and verify the address at /v1/me/emails")
        }
        if let verified = attributes.first(where: { $0.name == "email_verified" }) {
            guard verified.value == "true" || verified.value == "false" else { throw CognitoError.invalidParameter("email_verified must be true or false") }
            if verified.value == "true", !user.emailVerified { _ = try await services.store.markEmailVerified(userID: user.id, now: Date()) }
        }
        let changes = try CognitoAttributes.writable(attributes.filter { $0.name != "email_verified" })
        if !changes.isEmpty {
            _ = try await services.accounts.updateAttributes(of: user.id, ifMatch: "*", changes: changes.mapValues { Optional($0) })
        }
        return [:]
    }

    func adminDeleteUserAttributes() async throws -> [String: Any] {
        let user = try await namedUser()
        guard let names = try input.stringList("UserAttributeNames") else {
            throw CognitoError.invalidParameter("1 validation error detected: Value at 'userAttributeNames' failed to satisfy constraint: Member must not be null")
        }
        for name in names where !CognitoAttributes.isWritable(name) {
            throw CognitoError.invalidParameter("Cannot delete the attribute \(name)")
        }
        var changes: [String: String?] = [:]
        for name in names { changes[name] = .some(nil) }
        _ = try await services.accounts.updateAttributes(of: user.id, ifMatch: "*", changes: changes)
        return [:]
    }

    func adminUserGlobalSignOut() async throws -> [String: Any] {
        try await services.store.revokeAllTokens(userID: try await namedUser().id, now: Date())
        return [:]
    }

    func adminResetUserPassword() async throws -> [String: Any] {
        let user = try await namedUser()
        try await services.store.requirePasswordReset(userID: user.id, now: Date())
        _ = try await services.lifecycle.sendRecovery(to: user)
        return [:]
    }

    func adminInitiateAuth() async throws -> [String: Any] {
        let client = try await appClient()
        let flow = try input.required("AuthFlow")
        let parameters = try input.stringMap("AuthParameters")
        switch flow {
        case "ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH":
            try requireFlow(.adminUserPassword, client: client)
            return try await passwordSignIn(client: client, parameters: parameters)
        case "REFRESH_TOKEN_AUTH", "REFRESH_TOKEN":
            return try await refreshSignIn(client: client, parameters: parameters)
        default:
            throw CognitoError.invalidParameter("\(flow) flow not enabled for this client")
        }
    }

    // MARK: ListUsers

    /// The attributes `ListUsers` filters on, and how each reads from a user.
    static func filterValue(_ attribute: String, of user: User) -> String? {
        switch attribute {
        case "username", "sub": user.id
        case "email": user.email
        case "status": user.status == .disabled ? "Disabled" : "Enabled"
        case "cognito:user_status": userStatus(user)
        case "name", "given_name", "family_name", "preferred_username", "phone_number": user.attributes[attribute]
        default: nil
        }
    }

    /// `Filter`: `attribute = "value"` or `attribute ^= "value"`, or empty.
    static func parseFilter(_ text: String?) throws(CognitoError) -> (attribute: String, prefix: Bool, value: String)? {
        guard let text, !text.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        guard let match = text.wholeMatch(of: /\s*"?([\w:]+)"?\s*(\^?=)\s*"((?:[^"\\]|\\.)*)"\s*/) else {
            throw .invalidParameter("Error while parsing filter.")
        }
        let attribute = String(match.1)
        guard ["username", "sub", "email", "status", "cognito:user_status", "name", "given_name", "family_name", "preferred_username",
               "phone_number"].contains(attribute)
        else { throw .invalidParameter("Invalid search attribute: \(attribute)") }
        return (attribute, match.2 == "^=", String(match.3).replacingOccurrences(of: "\\\"", with: "\"").replacingOccurrences(of: "\\\\", with: "\\"))
    }

    func listUsers() async throws -> [String: Any] {
        let limit = try input.int("Limit") ?? 60
        guard (0...60).contains(limit) else { throw CognitoError.invalidParameter("1 validation error detected: Value at 'limit' failed to satisfy constraint: Member must have value less than or equal to 60") }
        let filter = try Self.parseFilter(try input.string("Filter"))
        let only = try input.stringList("AttributesToGet").map(Set.init)
        var after = try input.string("PaginationToken")
        let pageSize = max(limit, 1)
        var found: [User] = []
        var exhausted = false
        var more = false
        // Pages of users in creation order; a filter the store answers (an email prefix, the
        // enabled state) narrows the read, any other is applied to each page.
        let emailPrefix = filter.flatMap { $0.attribute == "email" && $0.prefix ? $0.value : nil }
        let status: UserStatus? = filter.flatMap { $0.attribute == "status" ? ($0.value == "Disabled" ? .disabled : nil) : nil }
        scan: while !exhausted {
            let page: [User]
            do {
                page = try await services.store.listUsers(limit: 500, after: after, emailPrefix: emailPrefix, status: status)
            } catch StorageError.notFound {
                throw CognitoError.invalidParameter("Invalid pagination token.")
            }
            exhausted = page.count < 500
            for (index, user) in page.enumerated() {
                after = user.id
                if let filter {
                    guard let value = Self.filterValue(filter.attribute, of: user) else { continue }
                    let matches = filter.prefix
                        ? value.lowercased().hasPrefix(filter.value.lowercased())
                        : value == filter.value || (filter.attribute == "email" && value.lowercased() == filter.value.lowercased())
                    guard matches else { continue }
                }
                found.append(user)
                if found.count == pageSize {
                    more = index < page.count - 1 || !exhausted
                    break scan
                }
            }
        }
        if limit == 0 { found = [] }
        var output: [String: Any] = ["Users": found.map { Self.userType($0, only: only) }]
        if more, limit > 0, let last = found.last { output["PaginationToken"] = last.id }
        return output
    }

    // MARK: Groups

    func groupType(_ group: UserGroup) -> [String: Any] {
        var type: [String: Any] = [
            "GroupName": group.name, "UserPoolId": api.poolID,
            "CreationDate": group.createdAt.timeIntervalSince1970, "LastModifiedDate": group.updatedAt.timeIntervalSince1970,
        ]
        type["Description"] = group.description
        type["Precedence"] = group.precedence
        return type
    }

    func createGroup() async throws -> [String: Any] {
        ["Group": groupType(try await services.groups.create(
            name: try input.required("GroupName"), description: try input.string("Description"), precedence: try input.int("Precedence")))]
    }

    func updateGroup() async throws -> [String: Any] {
        let name = try input.required("GroupName")
        let current = try await services.groups.group(named: name)
        let description = input.members["Description"] == nil ? current.description : try input.string("Description")
        let precedence = input.members["Precedence"] == nil ? current.precedence : try input.int("Precedence")
        return ["Group": groupType(try await services.groups.update(name: name, description: description, precedence: precedence))]
    }

    func deleteGroup() async throws -> [String: Any] {
        try await services.groups.delete(name: try input.required("GroupName"))
        return [:]
    }

    /// `Limit` (1–60, default 60) and `NextToken` (the last name or id of the page before).
    func page() throws -> (limit: Int, after: String?) {
        let limit = try input.int("Limit") ?? 60
        guard (1...60).contains(limit) else { throw CognitoError.invalidParameter("Limit must be between 1 and 60") }
        return (limit, try input.string("NextToken"))
    }

    func listGroups() async throws -> [String: Any] {
        let (limit, after) = try page()
        let groups = try await services.groups.list(limit: limit + 1, after: after)
        var output: [String: Any] = ["Groups": groups.prefix(limit).map(groupType)]
        if groups.count > limit { output["NextToken"] = groups[limit - 1].name }
        return output
    }

    func adminAddUserToGroup() async throws -> [String: Any] {
        let user = try await namedUser()
        try await services.groups.add(userID: user.id, to: try input.required("GroupName"))
        return [:]
    }

    func adminRemoveUserFromGroup() async throws -> [String: Any] {
        let user = try await namedUser()
        try await services.groups.remove(userID: user.id, from: try input.required("GroupName"))
        return [:]
    }

    func adminListGroupsForUser() async throws -> [String: Any] {
        let user = try await namedUser()
        let (limit, after) = try page()
        let all = try await services.groups.groups(ofUser: user.id)
        let start = after.flatMap { token in all.firstIndex { $0.name == token }.map { $0 + 1 } } ?? 0
        let slice = Array(all.dropFirst(start).prefix(limit))
        var output: [String: Any] = ["Groups": slice.map(groupType)]
        if start + slice.count < all.count, let last = slice.last { output["NextToken"] = last.name }
        return output
    }

    func listUsersInGroup() async throws -> [String: Any] {
        let (limit, after) = try page()
        let users = try await services.groups.members(of: try input.required("GroupName"), limit: limit + 1, after: after)
        var output: [String: Any] = ["Users": users.prefix(limit).map { Self.userType($0) }]
        if users.count > limit { output["NextToken"] = users[limit - 1].id }
        return output
    }

    // MARK: The pool and its clients

    func describeUserPool() async throws -> [String: Any] {
        let settings = services.settings
        return ["UserPool": [
            "Id": api.poolID, "Name": settings.productName, "UsernameAttributes": ["email"], "AutoVerifiedAttributes": ["email"],
            "MfaConfiguration": "OFF", "DeletionProtection": "ACTIVE", "UserPoolTier": "ESSENTIALS",
            "Policies": ["PasswordPolicy": [
                "MinimumLength": PasswordPolicy.minimumCharacters, "RequireUppercase": false, "RequireLowercase": false, "RequireNumbers": false,
                "RequireSymbols": false, "TemporaryPasswordValidityDays": 7,
            ]],
            "UserPoolAddOns": ["AdvancedSecurityMode": "OFF"],
            "AccountRecoverySetting": ["RecoveryMechanisms": [["Priority": 1, "Name": "verified_email"]]],
        ] as [String: Any]]
    }

    func describeUserPoolClient() async throws -> [String: Any] {
        let client = try await appClient()
        var flows = client.cognito.authFlows.map { "ALLOW_" + $0.rawValue }.sorted()
        if client.cognito.authFlows.contains(.userSRP) { flows = flows.filter { $0 != "ALLOW_USER_SRP_AUTH" } + ["ALLOW_USER_SRP_AUTH"] }
        return ["UserPoolClient": [
            "UserPoolId": api.poolID, "ClientName": client.name, "ClientId": client.id,
            "CreationDate": client.createdAt.timeIntervalSince1970, "LastModifiedDate": client.createdAt.timeIntervalSince1970,
            "ExplicitAuthFlows": flows.sorted(), "CallbackURLs": client.redirectURIs, "LogoutURLs": client.postLogoutRedirectURIs,
            "AllowedOAuthScopes": client.scope.tokens, "AllowedOAuthFlows": client.grants.contains(.authorizationCode) ? ["code"] : [String](),
            "AccessTokenValidity": Int(client.accessTokenTTL ?? services.settings.accessTokenTTL),
            "IdTokenValidity": Int(client.accessTokenTTL ?? services.settings.accessTokenTTL),
            "RefreshTokenValidity": Int(services.settings.refreshTokenTTL),
            "TokenValidityUnits": ["AccessToken": "seconds", "IdToken": "seconds", "RefreshToken": "seconds"],
            "PreventUserExistenceErrors": "ENABLED", "EnableTokenRevocation": true,
            "RefreshTokenRotation": [
                "Feature": client.cognito.refreshRotation ? "ENABLED" : "DISABLED", "RetryGracePeriodSeconds": client.cognito.retryGraceSeconds,
            ],
        ] as [String: Any]]
    }

    /// `GetCSVHeader`: the columns of Cognito's user import CSV.
    static let csvHeader = [
        "name", "given_name", "family_name", "middle_name", "nickname", "preferred_username", "profile", "picture", "website", "email",
        "email_verified", "gender", "birthdate", "zoneinfo", "locale", "phone_number", "phone_number_verified", "address", "updated_at",
        "cognito:mfa_enabled", "cognito:username",
    ]
}
