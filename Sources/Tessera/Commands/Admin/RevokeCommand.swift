import ArgumentParser
import Foundation
import TesseraCore
import TesseraCrypto
import TesseraSQLite

/// `tessera admin revoke`: cut off a token, a user, a client or one access token at once.
struct RevokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke a refresh token's family, everything a user or client holds, or one access token.",
        discussion: """
            Takes effect at once for a running server. Exactly one target. Asks for confirmation \
            on a terminal; scripts pass --yes.

            Examples:
              tessera admin revoke --token tsr_… --yes
              tessera admin revoke --user alice@example.com --yes
              tessera admin revoke --client reporting-service --yes
              tessera admin revoke --jti 3q2-Rf0wqXq7Hc1u8mAbCw --yes
            """)

    @Option(help: "A refresh token: its whole family is revoked.") var token: String?
    @Option(help: "A user's email or id: global sign-out (refresh tokens, access tokens, SSO sessions).") var user: String?
    @Option(help: "A client id: every token issued to the client.") var client: String?
    @Option(help: "An access token's jti: refused until it expires.") var jti: String?
    @OptionGroup var options: AdminOptions

    func validate() throws {
        let given = [token, user, client, jti].compactMap { $0 }.count
        guard given == 1 else { throw ValidationError("give exactly one of --token, --user, --client, --jti") }
    }

    func run() async throws {
        let context = try await AdminContext(options)
        if let token {
            guard RefreshToken(presented: token) != nil else { throw AdminError.usage("--token must be a refresh token (tsr_…)") }
            let family = try await context.revocations.family(of: token)
            try context.confirm("revoke the refresh-token family \(family.id) of user \(family.userID)")
            try context.emit(json: try await context.revocations.revokeFamily(of: token, actor: AdminContext.actor),
                             text: "revoked refresh-token family \(family.id) (user \(family.userID))")
        } else if let user {
            let found = try await context.user(user)
            try context.confirm("sign user \(found.id) out everywhere")
            try await context.users.signOut(found, actor: AdminContext.actor)
            try context.emit(json: ["revoked": "user", "user_id": found.id], text: "revoked every token and session of user \(found.id)")
        } else if let client {
            try await context.revocations.checkClient(client)
            try context.confirm("revoke every token of client \(client)")
            let revoked = try await context.revocations.revokeClient(client, actor: AdminContext.actor)
            try context.emit(json: revoked, text: "revoked every token of client \(client) (\(revoked["families"] ?? 0) refresh-token families)")
        } else if let jti {
            try context.confirm("revoke access token \(jti)")
            try context.emit(json: try await context.revocations.revokeAccessToken(jti: jti, actor: AdminContext.actor),
                             text: "revoked access token \(jti)")
        }
    }
}
