import Foundation

/// `file:DIR` (the default): each message is written as `DIR/<message id>.eml` — the exact
/// RFC 5322 bytes SMTP would carry — readable by the owner only, fsync'ed, and renamed into
/// place so that a reader never sees half a message.
public struct FileMailTransport: MailTransport {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    /// Creates the directory (0700) when missing.
    public func prepare() throws {
        if !FileManager.default.fileExists(atPath: directory) {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
    }

    public func withSession<T: Sendable>(_ body: (any MailSession) async throws -> T) async throws -> T {
        do {
            try prepare()
        } catch {
            throw MailDeliveryError.temporary("cannot create \(directory): \(error.localizedDescription)")
        }
        return try await body(Session(directory: directory))
    }

    struct Session: MailSession {
        let directory: String

        func deliver(_ message: OutgoingMessage) async throws {
            let final = (directory as NSString).appendingPathComponent(message.id + ".eml")
            let temporary = (directory as NSString).appendingPathComponent(".\(message.id).eml.tmp")
            let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw MailDeliveryError.temporary("cannot write \(temporary): errno \(errno)") }
            var written = 0
            let ok = message.data.withUnsafeBytes { bytes -> Bool in
                while written < bytes.count {
                    let count = write(descriptor, bytes.baseAddress! + written, bytes.count - written)
                    if count <= 0 { return false }
                    written += count
                }
                return fsync(descriptor) == 0
            }
            close(descriptor)
            guard ok, rename(temporary, final) == 0 else {
                unlink(temporary)
                throw MailDeliveryError.temporary("cannot write \(final): errno \(errno)")
            }
        }
    }
}
