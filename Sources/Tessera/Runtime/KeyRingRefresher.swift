import Foundation
import Logging
import ServiceLifecycle
import TesseraCore
import TesseraCrypto

/// Keeps a running server's key ring in step with the database, so `tessera admin keys
/// rotate` needs no restart, on one instance or many: every `cluster_sync_interval` it reads
/// the (tiny) `signing_keys` table; a `next` key whose time has come is promoted (by whichever
/// instance gets there first); when the records changed or a retiring key's time is up, it
/// reloads the private keys (keys dir or database) and swaps the ring atomically. A rotated key
/// is published for ``Settings/keyActivationDelay`` before it signs, so every instance's JWKS
/// carries it before any token does.
struct KeyRingRefresher: Service {
    let ring: KeyRing
    let storage: any SigningKeyStore & ClientStore
    let custody: KeyCustody
    let settings: Settings
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(settings.clusterSyncInterval))
                await refreshIfNeeded()
            }
        }
    }

    /// One check: promotes a due `next` key, and reloads when the records or the published set changed.
    func refreshIfNeeded(now: Date = Date()) async {
        do {
            var records = try await storage.allSigningKeys()
            if records.contains(where: { $0.state == .next && ($0.activateAfter ?? .distantPast) <= now }) {
                let retireAfter = now.addingTimeInterval(try await settings.longestTokenLifetime(clients: storage))
                if try await storage.promoteNextSigningKey(now: now, retireAfter: retireAfter) {
                    logger.notice("next signing key promoted to active", metadata: ["instance": "\(settings.instanceID)"])
                }
                records = try await storage.allSigningKeys()
            }
            let published = records.filter { $0.isPublished(at: now) }.map(\.kid).sorted()
            guard records != ring.records || published != ring.publishedKids else { return }
            let privateKeys = try await custody.privateKeys()
            if let active = records.first(where: { $0.state == .active }), privateKeys[active.kid] == nil {
                logger.error("the active signing key's private key is missing; still signing with the previous one", metadata: ["key.kid": "\(active.kid)"])
                return
            }
            try ring.replace(records: records, privateKeys: privateKeys, now: now)
            logger.notice("signing keys reloaded", metadata: ["key.active": "\(ring.activeKid ?? "none")", "key.published": "\(published.joined(separator: ","))"])
        } catch {
            logger.error("signing keys could not be reloaded", metadata: ["error": "\(error)"])
        }
    }
}
