import Foundation
import NIOSSL
import PostgresNIO

/// A PostgreSQL database URL (contract §10.1), taken apart and checked:
/// `postgres://user:pass@host:port/db?sslmode=…` or `postgresql://…`, or a Unix socket as
/// `postgres://user@/db?host=/socket/dir`. `sslmode` is `disable`, `prefer` (the default),
/// `require` (encrypted, the certificate not checked, as libpq does) or `verify-full`
/// (encrypted, the certificate and the host name checked against the system roots).
public struct PostgresURL: Sendable, Equatable, CustomStringConvertible {
    /// Why a URL was refused; never contains the password.
    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    public enum SSLMode: String, Sendable, CaseIterable {
        case disable, prefer, require
        case verifyFull = "verify-full"
    }

    public enum Endpoint: Sendable, Equatable {
        case tcp(host: String, port: Int)
        /// The socket directory and the port naming the socket file (`.s.PGSQL.<port>`).
        case socket(directory: String, port: Int)
    }

    public let endpoint: Endpoint
    public let username: String
    public let password: String?
    public let database: String
    public let sslMode: SSLMode

    /// Whether `value` names PostgreSQL rather than an SQLite path.
    public static func isPostgres(_ value: String) -> Bool {
        value.hasPrefix("postgres://") || value.hasPrefix("postgresql://")
    }

    public init(_ value: String) throws(Invalid) {
        guard Self.isPostgres(value), let components = URLComponents(string: value) else {
            throw Invalid("not a postgres:// or postgresql:// URL")
        }
        guard let user = components.user.flatMap({ $0.removingPercentEncoding }), !user.isEmpty else {
            throw Invalid("the URL names no user (postgres://USER@host/db)")
        }
        let path = components.path.removingPercentEncoding ?? components.path
        guard path.hasPrefix("/"), path.count > 1, !path.dropFirst().contains("/") else {
            throw Invalid("the URL names no database (postgres://user@host/DATABASE)")
        }
        var parameters: [String: String] = [:]
        for item in components.queryItems ?? [] {
            guard parameters[item.name] == nil, let itemValue = item.value else { throw Invalid("the parameter \(item.name) is repeated or empty") }
            guard ["sslmode", "host"].contains(item.name) else { throw Invalid("unknown parameter \(item.name) (known: sslmode, host)") }
            parameters[item.name] = itemValue
        }
        let port = components.port ?? 5432
        guard (1...65535).contains(port) else { throw Invalid("the port is out of range") }
        if let socketDirectory = parameters["host"] {
            guard socketDirectory.hasPrefix("/") else { throw Invalid("host= must be the absolute path of the socket directory") }
            guard (components.host ?? "").isEmpty else { throw Invalid("give either a host name or host= (a socket directory), not both") }
            endpoint = .socket(directory: socketDirectory, port: port)
        } else {
            guard let host = components.host, !host.isEmpty else { throw Invalid("the URL names no host (or host=/socket/dir)") }
            endpoint = .tcp(host: host, port: port)
        }
        guard let mode = SSLMode(rawValue: parameters["sslmode"] ?? "prefer") else {
            throw Invalid("sslmode must be one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if case .socket = endpoint, mode == .require || mode == .verifyFull {
            throw Invalid("sslmode=\(mode.rawValue) cannot be met over a Unix socket")
        }
        username = user
        password = components.password?.removingPercentEncoding
        database = String(path.dropFirst())
        sslMode = mode
    }

    /// The URL with the password masked, for logs and errors.
    public var description: String {
        let credentials = username + (password == nil ? "" : ":***")
        switch endpoint {
        case .tcp(let host, let port):
            return "postgres://\(credentials)@\(host):\(port)/\(database)?sslmode=\(sslMode.rawValue)"
        case .socket(let directory, let port):
            return "postgres://\(credentials)@/\(database)?host=\(directory)&port=\(port)"
        }
    }

    /// The client configuration for this URL, with at most `poolSize` connections.
    public func clientConfiguration(poolSize: Int) -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        switch endpoint {
        case .socket(let directory, let port):
            configuration = PostgresClient.Configuration(
                unixSocketPath: "\(directory)/.s.PGSQL.\(port)", username: username, password: password, database: database)
        case .tcp(let host, let port):
            configuration = PostgresClient.Configuration(
                host: host, port: port, username: username, password: password, database: database, tls: tls)
        }
        configuration.options.maximumConnections = poolSize
        return configuration
    }

    var tls: PostgresClient.Configuration.TLS {
        var unverified = TLSConfiguration.makeClientConfiguration()
        unverified.certificateVerification = .none
        switch sslMode {
        case .disable: return .disable
        case .prefer: return .prefer(unverified)
        case .require: return .require(unverified)
        case .verifyFull: return .require(.makeClientConfiguration())
        }
    }
}
