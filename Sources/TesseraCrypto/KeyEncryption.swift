import Foundation
import TesseraCore

/// The key-encryption keys of a deployment (contract §10.2): AES-256-GCM keys that seal the
/// signing keys and shared secrets stored in the database. Several may be given for a
/// rotation: the first seals, every one opens.
public struct KeyEncryption: SecretSealer {
    /// Why the setting was refused (never quoting it).
    public struct Invalid: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    /// Why a box opened under none of the keys.
    public struct OpenFailure: Error, CustomStringConvertible {
        public var description: String {
            "a secret stored in the database did not open under any key_encryption_key: the key it was sealed with is not configured, or it was altered"
        }
    }

    private let sealers: [AESGCMSealer]

    /// Parses `key_encryption_key`: base64 of 32 random bytes, several comma-separated.
    public init(parsing text: String) throws(Invalid) {
        let entries = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        var keys: [[UInt8]] = []
        for (index, entry) in entries.enumerated() {
            guard let bytes = Data(base64Encoded: entry), bytes.count == 32 else {
                throw Invalid(description: "entry \(index + 1) is not base64 of 32 bytes (make one with: openssl rand -base64 32)")
            }
            keys.append([UInt8](bytes))
        }
        guard !keys.isEmpty, keys.count <= 16 else { throw Invalid(description: "must hold 1 to 16 comma-separated keys") }
        sealers = keys.map(AESGCMSealer.init(key:))
    }

    /// Seals under the first key.
    public func seal(_ plaintext: [UInt8], context: String) throws -> [UInt8] {
        try sealers[0].seal(plaintext, context: context)
    }

    /// Opens under whichever key sealed it.
    public func open(_ sealed: [UInt8], context: String) throws -> [UInt8] {
        for sealer in sealers {
            if let opened = try? sealer.open(sealed, context: context) { return opened }
        }
        throw OpenFailure()
    }
}
