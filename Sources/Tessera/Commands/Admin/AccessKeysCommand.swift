import ArgumentParser
import Foundation
import TesseraCore
import TesseraCrypto

/// `tessera admin access-keys …` (contract §11.2): SigV4 keys for the Cognito API's admin
/// operations.
struct AccessKeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "access-keys", abstract: "Create, list and delete SigV4 access keys for the Cognito API's admin operations.",
        subcommands: [Create.self, List.self, Delete.self])

    /// `AKTS` and 16 characters of A–Z and 2–7, like AWS's 20-character key ids.
    static func newKeyID(using crypto: some CryptoPrimitives) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        return "AKTS" + String(crypto.randomBytes(16).map { alphabet[Int($0 & 31)] })
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an access key; prints its secret once.",
            discussion: """
                The secret is stored sealed under the keys dir's sealing key (SigV4 needs it in plaintext).
                Examples:
                  tessera admin access-keys create
                  tessera admin access-keys create --json
                """)
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let context = try await AdminContext(options)
            let crypto = OpenSSLPrimitives()
            let id = AccessKeysCommand.newKeyID(using: crypto)
            let secret = Data(crypto.randomBytes(30)).base64EncodedString()
            let sealer = try await KeyCustody(context.settings, storage: context.storage).secretSealer()
            try await context.storage.createAccessKey(AccessKeyRecord(
                id: id, sealedSecret: try sealer.seal(Array(secret.utf8), context: AccessKeyRecord.sealingContext(id: id)), createdAt: context.now))
            try await context.audit("access-keys.create", target: "access key \(id)")
            try context.emit(
                json: ["access_key_id": id, "secret_access_key": secret],
                text: "access_key_id: \(id)\nsecret_access_key: \(secret)\n(the secret is shown only now)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List access keys (never their secrets).", discussion: "Example:\n  tessera admin access-keys list --json")
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let context = try await AdminContext(options)
            let keys = try await context.storage.listAccessKeys()
            try context.emit(
                json: keys.map { ["access_key_id": $0.id, "created_at": $0.createdAt.iso8601] },
                text: TextTable.render(["ACCESS_KEY_ID", "CREATED_AT"], keys.map { [$0.id, $0.createdAt.iso8601] }))
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete an access key: requests signed with it are refused at once.",
            discussion: "Example:\n  tessera admin access-keys delete AKTSABCDEFGHIJKLMNOP --yes")
        @Argument(help: "The access key id.") var accessKeyID: String
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let context = try await AdminContext(options)
            guard try await context.storage.accessKey(id: accessKeyID) != nil else { throw AdminError.notFound("no access key \(accessKeyID)") }
            try context.confirm("delete access key \(accessKeyID)")
            _ = try await context.storage.deleteAccessKey(id: accessKeyID)
            try await context.audit("access-keys.delete", target: "access key \(accessKeyID)")
            try context.emit(json: ["access_key_id": accessKeyID, "deleted": true], text: "deleted access key \(accessKeyID)")
        }
    }
}
