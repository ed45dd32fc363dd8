import Foundation

/// Which network an IP address is in, for the SSRF guard on webhook targets (contract §9.3).
public enum AddressScope: Sendable, Equatable {
    case publicInternet
    case loopback
    /// Private, link-local, shared, multicast, documentation, reserved or unspecified.
    case nonPublic
}

/// The guard every webhook connection passes: at registration for the URL's host, and after
/// DNS for each address a connection may use (so a name that later resolves to an internal
/// address is refused too).
public struct AddressPolicy: Sendable, Equatable {
    /// `webhook_allow_private_networks`.
    public var allowPrivateNetworks: Bool

    public init(allowPrivateNetworks: Bool) {
        self.allowPrivateNetworks = allowPrivateNetworks
    }

    /// Why `address` may not be connected to, or nil when it may. `loopbackOnly` holds for
    /// `http://` targets, which may only reach this machine.
    public func refusal(_ address: IPAddress, loopbackOnly: Bool) -> String? {
        let scope = address.scope
        if loopbackOnly && scope != .loopback { return "\(address) is not a loopback address (http:// is only for loopback)" }
        if scope != .publicInternet && !allowPrivateNetworks {
            return "\(address) is in a \(scope == .loopback ? "loopback" : "private, link-local or reserved") range (set webhook_allow_private_networks to allow it)"
        }
        return nil
    }
}

/// An IPv4 or IPv6 address as bytes.
public struct IPAddress: Sendable, Equatable, CustomStringConvertible {
    /// 4 or 16 bytes.
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Parses a literal (`192.0.2.1`, `::1`, `[::1]`).
    public init?(_ text: String) {
        var literal = text
        if literal.hasPrefix("[") && literal.hasSuffix("]") { literal = String(literal.dropFirst().dropLast()) }
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, literal, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
        } else if !literal.contains("%"), inet_pton(AF_INET6, literal, &v6) == 1 {
            bytes = withUnsafeBytes(of: &v6) { Array($0) }
        } else {
            return nil
        }
    }

    public var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        var copy = bytes
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        guard inet_ntop(family, &copy, &buffer, socklen_t(buffer.count)) != nil else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var scope: AddressScope {
        bytes.count == 4 ? Self.scope(v4: bytes) : Self.scope(v6: bytes)
    }

    private static func scope(v4 b: [UInt8]) -> AddressScope {
        switch (b[0], b[1], b[2]) {
        case (127, _, _): return .loopback
        case (0, _, _), (10, _, _), (169, 254, _), (192, 168, _), (192, 0, 0), (192, 0, 2), (198, 51, 100), (203, 0, 113):
            return .nonPublic
        case (100, 64...127, _), (172, 16...31, _), (198, 18...19, _): return .nonPublic
        case (224..., _, _): return .nonPublic  // multicast, reserved, broadcast
        default: return .publicInternet
        }
    }

    private static func scope(v6 b: [UInt8]) -> AddressScope {
        let prefix96 = b.prefix(12)
        if b == [UInt8](repeating: 0, count: 15) + [1] { return .loopback }
        if b.allSatisfy({ $0 == 0 }) { return .nonPublic }
        // IPv4-mapped (::ffff:0:0/96), IPv4-compatible (::/96), NAT64 (64:ff9b::/96): the IPv4 inside decides.
        if prefix96 == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] || prefix96.allSatisfy({ $0 == 0 })
            || prefix96 == [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0]
        {
            return scope(v4: Array(b.suffix(4)))
        }
        // 6to4 (2002::/16) carries an IPv4 in bytes 2–5.
        if b[0] == 0x20 && b[1] == 0x02 { return scope(v4: Array(b[2..<6])) }
        if b[0] & 0xfe == 0xfc { return .nonPublic }  // unique local fc00::/7
        if b[0] == 0xfe && b[1] & 0xc0 == 0x80 { return .nonPublic }  // link-local fe80::/10
        if b[0] == 0xfe && b[1] & 0xc0 == 0xc0 { return .nonPublic }  // site-local fec0::/10
        if b[0] == 0xff { return .nonPublic }  // multicast
        if b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8 { return .nonPublic }  // documentation
        if b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0 { return .nonPublic }  // Teredo
        if b.prefix(8) == [0x01, 0, 0, 0, 0, 0, 0, 0] { return .nonPublic }  // discard 100::/64
        return .publicInternet
    }
}
