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
            guard let refresh = RefreshToken(presented: token) else { throw AdminError.usage("--token must be a refresh token (tsr_…)") }
            let hash = refresh.hash(using: OpenSSLPrimitives())
            guard let family = try await context.storage.family(containing: hash) else { throw AdminError.notFound("no such refresh token") }
            try context.confirm("revoke the refresh-token family \(family.id) of user \(family.userID)")
            _ = try await context.storage.revokeFamily(containing: hash, reason: "revoked by admin", now: context.now)
            try await context.audit("revoke.token", target: "family \(family.id)")
            try context.emit(json: ["revoked": "family", "family_id": family.id, "user_id": family.userID],
                             text: "revoked refresh-token family \(family.id) (user \(family.userID))")
        } else if let user {
            let found = try await context.user(user)
            try context.confirm("sign user \(found.id) out everywhere")
            try await context.users.signOut(found, actor: AdminContext.actor)
            try context.emit(json: ["revoked": "user", "user_id": found.id], text: "revoked every token and session of user \(found.id)")
        } else if let client {
            let registered = try await context.storage.client(id: client) != nil
            guard client == FirstPartyClient.id || registered else { throw AdminError.notFound("no client \(client)") }
            try context.confirm("revoke every token of client \(client)")
            let families = try await context.storage.revokeClientTokens(clientID: client, now: context.now)
            try await context.audit("revoke.client", target: "client \(client)", details: "\(families) families")
            try context.emit(json: ["revoked": "client", "client_id": client, "families": families],
                             text: "revoked every token of client \(client) (\(families) refresh-token families)")
        } else if let jti {
            try context.confirm("revoke access token \(jti)")
            // Access tokens are not stored: remember the jti for as long as any token can live.
            let until = context.now.addingTimeInterval(try await TesseraRuntime.longestTokenLifetime(context.settings, clients: context.storage))
            try await context.storage.revokeAccessToken(jti: jti, expiresAt: until, now: context.now)
            try await context.audit("revoke.jti", target: "jti \(jti)")
            try context.emit(json: ["revoked": "jti", "jti": jti], text: "revoked access token \(jti)")
        }
    }
}
