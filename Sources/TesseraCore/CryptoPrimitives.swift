/// The primitives the domain needs from a crypto library: the OS CSPRNG and SHA-256.
/// Implemented over OpenSSL by `TesseraCrypto`; the domain never sees OpenSSL.
public protocol CryptoPrimitives: Sendable {
    /// `count` bytes from the operating system's CSPRNG.
    func randomBytes(_ count: Int) -> [UInt8]
    /// The SHA-256 digest of `bytes`.
    func sha256(_ bytes: [UInt8]) -> [UInt8]
    /// HMAC-SHA-256 (RFC 2104) of `message` under `key`: 32 bytes.
    func hmacSHA256(key: [UInt8], _ message: [UInt8]) -> [UInt8]
}
