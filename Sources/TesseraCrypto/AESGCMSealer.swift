import COpenSSL
import TesseraCore

/// ``SecretSealer`` with AES-256-GCM (OpenSSL): a box is a version byte, a random 96-bit
/// nonce, the ciphertext and the 128-bit tag; the context (the owning row's id) is
/// authenticated data, so a box copied to another row does not open.
public struct AESGCMSealer: SecretSealer {
    /// Why a box did not open.
    public struct OpenFailure: Error, CustomStringConvertible {
        public var description: String { "a sealed secret did not open: altered, or sealed under another key (keys/sealing.key) or for another row" }
    }

    private static let version: UInt8 = 1
    private static let nonceLength = 12
    private static let tagLength = 16
    private let key: [UInt8]

    /// `key`: 32 bytes.
    public init(key: [UInt8]) {
        precondition(key.count == 32, "AES-256 takes a 32-byte key")
        self.key = key
    }

    public func seal(_ plaintext: [UInt8], context: String) throws -> [UInt8] {
        let nonce = OpenSSLPrimitives().randomBytes(Self.nonceLength)
        let (ciphertext, tag) = try crypt(encrypt: true, nonce: nonce, input: plaintext, context: context, tag: nil)
        return [Self.version] + nonce + ciphertext + tag
    }

    public func open(_ sealed: [UInt8], context: String) throws -> [UInt8] {
        guard sealed.count >= 1 + Self.nonceLength + Self.tagLength, sealed[0] == Self.version else { throw OpenFailure() }
        let nonce = Array(sealed[1...Self.nonceLength])
        let body = Array(sealed[(1 + Self.nonceLength)..<(sealed.count - Self.tagLength)])
        let tag = Array(sealed.suffix(Self.tagLength))
        return try crypt(encrypt: false, nonce: nonce, input: body, context: context, tag: tag).0
    }

    private func crypt(encrypt: Bool, nonce: [UInt8], input: [UInt8], context: String, tag: [UInt8]?) throws -> ([UInt8], [UInt8]) {
        guard let ctx = EVP_CIPHER_CTX_new() else { throw OpenFailure() }
        defer { EVP_CIPHER_CTX_free(ctx) }
        let aad = Array("tessera-sealed-v1\n\(context)".utf8)
        var output = [UInt8](repeating: 0, count: input.count + 16)
        var length: Int32 = 0
        var total = 0
        let initialised = encrypt
            ? EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nil, key, nonce)
            : EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nil, key, nonce)
        guard initialised == 1 else { throw OpenFailure() }
        let update = encrypt ? EVP_EncryptUpdate : EVP_DecryptUpdate
        guard update(ctx, nil, &length, aad, Int32(aad.count)) == 1 else { throw OpenFailure() }
        if !input.isEmpty {
            guard update(ctx, &output, &length, input, Int32(input.count)) == 1 else { throw OpenFailure() }
            total = Int(length)
        }
        if encrypt {
            let finished = output.withUnsafeMutableBufferPointer { EVP_EncryptFinal_ex(ctx, $0.baseAddress! + total, &length) }
            guard finished == 1 else { throw OpenFailure() }
            total += Int(length)
            var tag = [UInt8](repeating: 0, count: Self.tagLength)
            guard EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, Int32(Self.tagLength), &tag) == 1 else { throw OpenFailure() }
            return (Array(output.prefix(total)), tag)
        }
        var expected = tag ?? []
        guard EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, Int32(Self.tagLength), &expected) == 1 else { throw OpenFailure() }
        // The tag is checked here, in constant time, by OpenSSL.
        let finished = output.withUnsafeMutableBufferPointer { EVP_DecryptFinal_ex(ctx, $0.baseAddress! + total, &length) }
        guard finished == 1 else { throw OpenFailure() }
        total += Int(length)
        return (Array(output.prefix(total)), [])
    }
}
