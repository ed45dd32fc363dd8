import Foundation
import Logging
import ServiceLifecycle
import TesseraCore
import TesseraCrypto

/// Keeps a running server's key ring in step with the database, so `tessera admin keys
/// rotate` needs no restart: every second it reads the (tiny) `signing_keys` table and, when
/// the records changed or a retiring key's time is up, reloads the keys dir and swaps the
/// ring atomically. The next token is signed with the new active key.
struct KeyRingRefresher: Service {
    static let interval: Duration = .seconds(1)

    let ring: KeyRing
    let storage: any SigningKeyStore
    let directory: KeyDirectory
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.interval)
                await refreshIfNeeded()
            }
        }
    }

    /// One check: reloads when the records or the published set changed.
    func refreshIfNeeded(now: Date = Date()) async {
        do {
            let records = try await storage.allSigningKeys()
            let published = records.filter { $0.isPublished(at: now) }.map(\.kid).sorted()
            guard records != ring.records || published != ring.publishedKids else { return }
            let loaded = try directory.load()
            let privateKeys = Dictionary(loaded.map { ($0.kid, $0.key) }, uniquingKeysWith: { first, _ in first })
            if let active = records.first(where: { $0.state == .active }), privateKeys[active.kid] == nil {
                logger.error("active signing key is not in the keys dir; still signing with the previous one", metadata: ["key.kid": "\(active.kid)"])
                return
            }
            try ring.replace(records: records, privateKeys: privateKeys, now: now)
            logger.notice("signing keys reloaded", metadata: ["key.active": "\(ring.activeKid ?? "none")", "key.published": "\(published.joined(separator: ","))"])
        } catch {
            logger.error("signing keys could not be reloaded", metadata: ["error": "\(error)"])
        }
    }
}
