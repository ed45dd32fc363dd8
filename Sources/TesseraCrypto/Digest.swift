import COpenSSL
import TesseraCore
import Foundation

/// SHA-256 from libcrypto.
public enum SHA256 {
    /// SHA-256 fetched from the default provider once: `EVP_sha256()` makes OpenSSL 3 fetch
    /// it again on every use (a lookup under a lock, for every token hashed or signed).
    /// A fetched `EVP_MD` is immutable and safe to share between threads.
    nonisolated(unsafe) static let algorithm: OpaquePointer = {
        guard let fetched = EVP_MD_fetch(nil, "SHA2-256", nil) else {
            preconditionFailure("libcrypto has no SHA-256: \(openSSLErrorMessage("EVP_MD_fetch"))")
        }
        return fetched
    }()

    /// The 32-byte digest of `data`.
    public static func hash<Bytes: ContiguousBytes>(_ data: Bytes) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let ok = data.withUnsafeBytes { input in
            digest.withUnsafeMutableBytes { output in
                EVP_Digest(input.baseAddress, input.count, output.baseAddress, &length, algorithm, nil)
            }
        }
        // EVP_Digest with SHA-256 and in-memory buffers cannot fail short of memory exhaustion.
        precondition(ok == 1 && length == 32, "SHA-256 failed: \(openSSLErrorMessage("unknown"))")
        return digest
    }

    public static func hash(_ text: String) -> [UInt8] {
        hash(Array(text.utf8))
    }

    /// HMAC-SHA-256 of `message` under `key` (32 bytes).
    public static func hmac(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        var mac = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let result = key.withUnsafeBytes { keyBytes in
            message.withUnsafeBytes { input in
                mac.withUnsafeMutableBytes { output in
                    HMAC(algorithm, keyBytes.baseAddress, Int32(keyBytes.count), input.baseAddress?.assumingMemoryBound(to: UInt8.self),
                         input.count, output.baseAddress?.assumingMemoryBound(to: UInt8.self), &length)
                }
            }
        }
        // Like the digest, an in-memory HMAC-SHA-256 cannot fail short of memory exhaustion.
        precondition(result != nil && length == 32, "HMAC-SHA-256 failed: \(openSSLErrorMessage("HMAC"))")
        return mac
    }
}

/// Bytes from the operating system's CSPRNG through OpenSSL's `RAND_bytes`.
public enum SecureRandom {
    public static func bytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let ok = bytes.withUnsafeMutableBytes { RAND_bytes($0.baseAddress, Int32(count)) }
        // A CSPRNG that cannot produce bytes leaves nothing safe to do but stop.
        precondition(ok == 1, "CSPRNG failed: \(openSSLErrorMessage("RAND_bytes"))")
        return bytes
    }
}

/// ``CryptoPrimitives`` over OpenSSL.
public struct OpenSSLPrimitives: CryptoPrimitives {
    public init() {}
    public func randomBytes(_ count: Int) -> [UInt8] { SecureRandom.bytes(count) }
    public func sha256(_ bytes: [UInt8]) -> [UInt8] { SHA256.hash(bytes) }
    public func hmacSHA256(key: [UInt8], _ message: [UInt8]) -> [UInt8] { SHA256.hmac(key: key, message) }
}
