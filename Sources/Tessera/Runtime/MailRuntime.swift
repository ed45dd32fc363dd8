import Foundation
import Logging
import ServiceLifecycle
import TesseraCore
import TesseraCrypto
import TesseraMail

/// Builds the mail side of a server from its settings (contract §8.1, §8.5, §8.6): the
/// transport of `mail_url`, the checked templates and the courier. Each failure is a
/// ``StartupError`` naming the setting.
enum MailRuntime {
    static func endpoint(_ settings: Settings) throws -> MailEndpoint {
        do {
            return try MailEndpoint(parsing: settings.mailURL)
        } catch {
            throw StartupError("invalid mail_url: \(error.description)")
        }
    }

    /// The transport; a `file:` directory is created (0700) now, so a bad path stops start-up.
    static func transport(_ settings: Settings) throws -> any MailTransport {
        let endpoint = try endpoint(settings)
        do {
            let transport = try endpoint.makeTransport(clientName: URLComponents(string: settings.publicBaseURL)?.host ?? "localhost")
            if let files = transport as? FileMailTransport { try files.prepare() }
            return transport
        } catch {
            throw StartupError("mail_url: \(error)")
        }
    }

    static func renderer(_ settings: Settings) throws -> MailRenderer {
        do {
            return MailRenderer(templates: try MailTemplates(overridesIn: settings.mailTemplatesDir), settings: settings)
        } catch {
            throw StartupError("mail templates: \(error.description)")
        }
    }

    static func codeSecret(_ settings: Settings, storage: any SigningKeyStore) async throws -> CodeSecret {
        do {
            return try await KeyCustody(settings, storage: storage).codeSecret()
        } catch let error as StartupError {
            throw error
        } catch let error as KeyDirectory.Failure {
            throw StartupError(error.description)
        }
    }

    static func courier(_ settings: Settings, storage: any MailOutbox, logger: Logger) throws -> MailCourier {
        MailCourier(
            store: storage, transport: try transport(settings), renderer: try renderer(settings), settings: settings,
            now: { Date() }, logger: logger)
    }
}

/// Runs the mail courier for as long as the server runs.
struct MailCourierService: Service {
    let courier: MailCourier

    func run() async throws {
        await cancelWhenGracefulShutdown { await courier.run() }
    }
}
