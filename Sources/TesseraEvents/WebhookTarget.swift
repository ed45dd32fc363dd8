import Foundation
import NIOPosix

/// A webhook URL taken apart and checked (contract §9.3): `https://`, or `http://` to a
/// loopback host; no credentials, no fragment; at most 2048 characters.
public struct WebhookTarget: Sendable, Equatable {
    /// Why a URL cannot be a webhook target.
    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    public let url: String
    public let isTLS: Bool
    /// The host as written (brackets removed from an IPv6 literal).
    public let host: String
    public let port: Int
    /// Path and query, `/` at least.
    public let requestTarget: String

    public init(_ url: String) throws(Invalid) {
        guard url.count <= 2048 else { throw Invalid("the URL is longer than 2048 characters") }
        guard !url.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7f }) else {
            throw Invalid("the URL contains spaces or control characters")
        }
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              let host = components.host, !host.isEmpty
        else { throw Invalid("not an absolute http(s) URL") }
        guard scheme == "https" || scheme == "http" else { throw Invalid("the scheme must be https (or http to loopback)") }
        guard components.user == nil && components.password == nil else { throw Invalid("the URL may not carry credentials") }
        guard components.fragment == nil else { throw Invalid("the URL may not have a fragment") }
        let bare = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        if scheme == "http" {
            let loopbackName = bare.lowercased() == "localhost"
            guard loopbackName || IPAddress(bare)?.scope == .loopback else {
                throw Invalid("http:// is allowed only to loopback (127.0.0.1, ::1, localhost); use https://")
            }
        }
        self.url = url
        isTLS = scheme == "https"
        self.host = bare
        port = components.port ?? (isTLS ? 443 : 80)
        guard (1...65535).contains(port) else { throw Invalid("the port is out of range") }
        let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        requestTarget = path + (components.percentEncodedQuery.map { "?" + $0 } ?? "")
    }

    /// The `Host` header's value.
    public var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == (isTLS ? 443 : 80) ? name : "\(name):\(port)"
    }

    /// Resolves the host (a literal stays itself) and checks every address against `policy`:
    /// one refused address refuses the target, so a name cannot mix an internal address in.
    public func resolve(policy: AddressPolicy) async throws -> [IPAddress] {
        let addresses: [IPAddress]
        if let literal = IPAddress(host) {
            addresses = [literal]
        } else {
            addresses = try await HostResolver.resolve(host)
        }
        guard !addresses.isEmpty else { throw Invalid("\(host) has no address") }
        for address in addresses {
            if let refusal = policy.refusal(address, loopbackOnly: !isTLS) { throw Invalid(refusal) }
        }
        return addresses
    }
}

/// Name resolution with the system resolver (getaddrinfo), off the event loops and the
/// concurrency pool's threads.
enum HostResolver {
    static func resolve(_ host: String) async throws -> [IPAddress] {
        try await NIOThreadPool.singleton.runIfActive {
            var hints = addrinfo()
            hints.ai_family = AF_UNSPEC
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var result: UnsafeMutablePointer<addrinfo>?
            let status = getaddrinfo(host, nil, &hints, &result)
            guard status == 0, let first = result else {
                throw WebhookTarget.Invalid("cannot resolve \(host): \(String(cString: gai_strerror(status)))")
            }
            defer { freeaddrinfo(first) }
            var addresses: [IPAddress] = []
            var entry: UnsafeMutablePointer<addrinfo>? = first
            while let current = entry {
                if let socket = current.pointee.ai_addr {
                    switch Int32(socket.pointee.sa_family) {
                    case AF_INET:
                        let bytes = socket.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                            withUnsafeBytes(of: pointer.pointee.sin_addr) { Array($0) }
                        }
                        if let address = IPAddress(bytes: bytes), !addresses.contains(address) { addresses.append(address) }
                    case AF_INET6:
                        let bytes = socket.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                            withUnsafeBytes(of: pointer.pointee.sin6_addr) { Array($0) }
                        }
                        if let address = IPAddress(bytes: bytes), !addresses.contains(address) { addresses.append(address) }
                    default: break
                    }
                }
                entry = current.pointee.ai_next
            }
            return addresses
        }
    }
}
