import Foundation
import Logging
import Synchronization
import Testing
import TesseraCore
import TesseraCrypto
import TesseraMail
@testable import TesseraSQLite
import TesseraTestSupport

/// The courier over a real SQLite queue and the real file transport.
@Suite("Mail courier")
struct CourierTests {
    final class Clock: Sendable {
        private let current = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        var now: Date { current.withLock { $0 } }
        func advance(by seconds: TimeInterval) { current.withLock { $0 += seconds } }
    }

    let directory = TemporaryDirectory()
    let clock = Clock()
    let storage: SQLiteStorage
    var settings = Settings()

    init() throws {
        storage = try SQLiteStorage(path: directory.path("tessera.sqlite"))
        _ = try storage.migrate()
        settings.mailMaxAttempts = 3
        settings.mailRetryBaseDelay = 10
    }

    func courier(to mailDirectory: String) throws -> MailCourier {
        MailCourier(
            store: storage, transport: FileMailTransport(directory: mailDirectory),
            renderer: MailRenderer(templates: try MailTemplates(), settings: settings), settings: settings,
            now: { [clock] in clock.now }, logger: Logger(label: "test"))
    }

    /// A user and a recovery code for them, queued; returns the message id and the code.
    func queueCode(ttl: TimeInterval = 900) async throws -> (id: String, code: String) {
        let user = User(
            id: "u1", email: "Ann@Example.com", emailVerified: false, passwordHash: nil, status: .active, attributes: [:],
            createdAt: clock.now, updatedAt: clock.now)
        try await storage.createUser(user, postSignUpHooks: [], verification: nil, now: clock.now)
        var settings = settings
        settings.recoveryCodeTTL = ttl
        let mail = LifecycleMail(settings: settings, secret: CodeSecret(bytes: Array(repeating: 7, count: 32)), crypto: OpenSSLPrimitives())
        let now = clock.now
        #expect(try await storage.issueCode(emailKey: "ann@example.com", purpose: .recover, limits: .none, now: now) { user, address in
            mail.code(for: user, purpose: .recover, address: address, now: now)
        })
        let queued = try #require(try await storage.listMail(status: .queued, recipient: nil, limit: 10).first)
        return (queued.id, try #require(queued.request.variables["code"]))
    }

    @Test("a queued message is written as <id>.eml (0600, the code on its own line) and marked sent with its code removed")
    func delivers() async throws {
        let (id, code) = try await queueCode()
        let mailDirectory = directory.path("mail")
        #expect(try await courier(to: mailDirectory).deliverDue() == 1)
        let file = mailDirectory + "/\(id).eml"
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text.components(separatedBy: "\r\n").contains(code))
        #expect(text.contains("To: Ann@Example.com\r\n"))
        let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let stored = try #require(try await storage.mail(id: id))
        #expect(stored.status == .sent && stored.attempts == 1 && stored.request.variables["code"] == nil)
        #expect(stored.request.variables["email"] == "Ann@Example.com", "the rest of the variables stay")
    }

    @Test("a message whose code died before it could go is marked expired, never sent, its code removed")
    func expires() async throws {
        let (id, _) = try await queueCode(ttl: 5)
        clock.advance(by: 6)
        let mailDirectory = directory.path("mail")
        try await courier(to: mailDirectory).deliverDue()
        let stored = try #require(try await storage.mail(id: id))
        #expect(stored.status == .expired && stored.request.variables["code"] == nil)
        #expect(!FileManager.default.fileExists(atPath: mailDirectory + "/\(id).eml"))
    }

    @Test("temporary failures retry after base × 2^(n−1) up to mail_max_attempts, then fail; the code stays while alive, then is swept")
    func retries() async throws {
        let (id, _) = try await queueCode(ttl: 3600)
        // A regular file where the directory should be: every write fails, for real.
        let blocked = try directory.write("not-a-directory", "x") + "/mail"
        let courier = try courier(to: blocked)
        try await courier.deliverDue()
        var stored = try #require(try await storage.mail(id: id))
        #expect(stored.status == .queued && stored.attempts == 1 && stored.nextAttemptAt == clock.now.addingTimeInterval(10))
        #expect(try await courier.deliverDue() == 0, "not due yet")
        clock.advance(by: 10)
        try await courier.deliverDue()
        stored = try #require(try await storage.mail(id: id))
        #expect(stored.attempts == 2 && stored.nextAttemptAt == clock.now.addingTimeInterval(20))
        clock.advance(by: 20)
        try await courier.deliverDue()
        stored = try #require(try await storage.mail(id: id))
        #expect(stored.status == .failed && stored.attempts == 3 && stored.lastError?.contains("temporary") == true)
        #expect(stored.request.variables["code"] != nil, "kept for mail retry while the code lives")

        // mail retry: queued again, attempts reset, and sent through a working directory.
        #expect(try await storage.retryFailedMail(ids: nil, now: clock.now) == [id])
        try await self.courier(to: directory.path("mail")).deliverDue()
        #expect(try await storage.mail(id: id)?.status == .sent)
    }

    @Test("a failed message whose code has died: the sweep removes the code, and retry refuses it")
    func failedAndDead() async throws {
        let (id, _) = try await queueCode(ttl: 60)
        do {
            var settings = settings
            settings.mailMaxAttempts = 1
            let blocked = try directory.write("blocker", "x") + "/mail"
            let courier = MailCourier(
                store: storage, transport: FileMailTransport(directory: blocked),
                renderer: MailRenderer(templates: try MailTemplates(), settings: settings), settings: settings,
                now: { [clock] in clock.now }, logger: Logger(label: "test"))
            try await courier.deliverDue()
        }
        #expect(try await storage.mail(id: id)?.status == .failed)
        clock.advance(by: 61)
        #expect(try await storage.retryFailedMail(ids: [id], now: clock.now) == [])
        let swept = try await storage.sweepExpired(now: clock.now, eventRetention: 2_592_000)
        #expect(swept.mailScrubbed == 1)
        #expect(try await storage.mail(id: id)?.request.variables["code"] == nil)
    }

    @Test("the queue survives a restart: another storage handle's courier sends what the first never did")
    func survivesRestart() async throws {
        let (id, _) = try await queueCode()
        let reopened = try SQLiteStorage(path: directory.path("tessera.sqlite"))
        let courier = MailCourier(
            store: reopened, transport: FileMailTransport(directory: directory.path("mail")),
            renderer: MailRenderer(templates: try MailTemplates(), settings: settings), settings: settings,
            now: { [clock] in clock.now }, logger: Logger(label: "test"))
        #expect(try await courier.deliverDue() == 1)
        #expect(FileManager.default.fileExists(atPath: directory.path("mail") + "/\(id).eml"))
    }
}
