#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import TesseraCore

/// The keys dir: RSA private keys as `*.pem` files (PKCS#8 or PKCS#1), one generated on
/// first start when there is none.
public struct KeyDirectory: Sendable {
    /// A key loaded from the directory.
    public struct LoadedKey: Sendable {
        public let file: URL
        public let key: RSAPrivateKey
        public let modified: Date
        public var kid: String { key.publicKey.jwk.kid! }
    }

    /// Why the keys dir could not be used; each names the file or directory concerned.
    public enum Failure: Error, CustomStringConvertible, Equatable {
        case unusableDirectory(String, String)
        case unreadableKeyFile(String, String)
        case badKey(String, CryptoError)

        public var description: String {
            switch self {
            case .unusableDirectory(let path, let reason): "keys dir \(path): \(reason)"
            case .unreadableKeyFile(let path, let reason): "key file \(path): \(reason)"
            case .badKey(let path, let error): "key file \(path): \(error)"
            }
        }
    }

    public let url: URL

    public init(path: String) {
        url = URL(fileURLWithPath: path, isDirectory: true)
    }

    /// Loads every `*.pem` file; when there is none, generates a 2048-bit key and writes it
    /// with mode 0600 (creating the directory with mode 0700 if needed). Newest file first.
    public func loadOrGenerate() throws(Failure) -> (keys: [LoadedKey], generated: LoadedKey?) {
        let keys = try load()
        if !keys.isEmpty { return (keys, nil) }
        let generated = try generate()
        return ([generated], generated)
    }

    /// Loads every `*.pem` file, newest first. A file that is not a usable RSA key is an error.
    public func load() throws(Failure) -> [LoadedKey] {
        let fileManager = FileManager.default
        var isDirectory: ObjCBool = false
        guard fileManager.fileExists(atPath: url.path, isDirectory: &isDirectory) else { return [] }
        guard isDirectory.boolValue else { throw .unusableDirectory(url.path, "not a directory") }
        let names: [String]
        do {
            names = try fileManager.contentsOfDirectory(atPath: url.path)
        } catch {
            throw .unusableDirectory(url.path, "cannot list: \(error.localizedDescription)")
        }
        var keys: [LoadedKey] = []
        for name in names.sorted() where name.hasSuffix(".pem") {
            let file = url.appendingPathComponent(name)
            let pem: String
            let modified: Date
            do {
                pem = try String(contentsOf: file, encoding: .utf8)
                modified = (try fileManager.attributesOfItem(atPath: file.path)[.modificationDate] as? Date) ?? .distantPast
            } catch {
                throw .unreadableKeyFile(file.path, "cannot read")
            }
            do {
                keys.append(LoadedKey(file: file, key: try RSAPrivateKey(pem: pem), modified: modified))
            } catch {
                throw .badKey(file.path, error)
            }
        }
        return keys.sorted { $0.modified > $1.modified }
    }

    /// Generates a new key and writes it as `<kid>.pem`, mode 0600.
    public func generate(bits: Int = 2048) throws(Failure) -> LoadedKey {
        let fileManager = FileManager.default
        do {
            try fileManager.createDirectory(at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw .unusableDirectory(url.path, "cannot create: \(error.localizedDescription)")
        }
        let key: RSAPrivateKey
        let pem: String
        do {
            key = try RSAPrivateKey.generate(bits: bits)
            pem = try key.pkcs8PEM()
        } catch {
            throw .badKey(url.path, error)
        }
        let file = url.appendingPathComponent("\(key.publicKey.jwk.kid!).pem")
        guard Self.writeSecretFile(file.path, Array(pem.utf8)) else {
            throw .unusableDirectory(url.path, "cannot write \(file.lastPathComponent): \(String(cString: strerror(errno)))")
        }
        return LoadedKey(file: file, key: key, modified: Date())
    }

    /// The file of the key one-time codes are hashed under (contract §8.2).
    public static let codeSecretFile = "code-secret.key"

    /// The code secret: 32 random bytes, base64, in `code-secret.key` (mode 0600), created on
    /// first use. A file others may read is refused, as is one of the wrong size.
    public func loadOrCreateCodeSecret() throws(Failure) -> CodeSecret {
        CodeSecret(bytes: try loadOrCreateSecret(Self.codeSecretFile))
    }

    /// The file of the key that seals secrets stored in the database (webhook signing secrets).
    public static let sealingKeyFile = "sealing.key"

    /// The sealer of secrets at rest, keyed by `sealing.key` (32 random bytes, base64, mode
    /// 0600), created on first use. Losing the file makes every sealed secret unreadable.
    public func loadOrCreateSealer() throws(Failure) -> AESGCMSealer {
        AESGCMSealer(key: try loadOrCreateSealingKey())
    }

    /// The 32 bytes of `sealing.key`, created on first use.
    public func loadOrCreateSealingKey() throws(Failure) -> [UInt8] {
        Array(try loadOrCreateSecret(Self.sealingKeyFile).prefix(32))
    }

    /// At least 32 secret bytes from `name` in this directory: created (random) when missing;
    /// refused when others may read it or it is not base64 of 32 bytes or more.
    private func loadOrCreateSecret(_ name: String) throws(Failure) -> [UInt8] {
        let file = url.appendingPathComponent(name)
        if !FileManager.default.fileExists(atPath: file.path) {
            do {
                try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw .unusableDirectory(url.path, "cannot create: \(error.localizedDescription)")
            }
            let bytes = OpenSSLPrimitives().randomBytes(32)
            // Losing a race with another process is fine: its file is read below.
            _ = Self.writeSecretFile(file.path, Array((Data(bytes).base64EncodedString() + "\n").utf8))
        }
        var status = stat()
        guard stat(file.path, &status) == 0 else { throw .unreadableKeyFile(file.path, "cannot read") }
        guard status.st_mode & 0o077 == 0 else {
            throw .unreadableKeyFile(file.path, "readable by others (mode \(String(status.st_mode & 0o777, radix: 8))); chmod 600 it")
        }
        guard let text = try? String(contentsOf: file, encoding: .utf8),
              let bytes = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count >= 32
        else { throw .unreadableKeyFile(file.path, "not base64 of at least 32 bytes") }
        return [UInt8](bytes)
    }

    /// Creates a new file with mode 0600 from the first instant (never readable by others,
    /// not even briefly), writes it and flushes it to disk.
    private static func writeSecretFile(_ path: String, _ bytes: [UInt8]) -> Bool {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        return written == bytes.count && fsync(descriptor) == 0
    }
}
