import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import TesseraCore

/// What an endpoint answered.
public struct WebhookResponse: Sendable, Equatable {
    public let status: Int
    /// The `Retry-After` header, as sent.
    public let retryAfter: String?
    /// The answer's body (at most 1 MiB: ``ResponseSizeGuard``).
    public let body: [UInt8]
    let keepAlive: Bool
}

/// Why an attempt got no answer.
public enum WebhookSendError: Error, Equatable, CustomStringConvertible {
    /// The target's address is refused by the SSRF guard (or it has none).
    case refused(String)
    case connect(String)
    case timedOut(seconds: Int)
    /// The connection ended before a whole answer.
    case closed(receivedHead: Bool)
    case failed(String)

    public var description: String {
        switch self {
        case .refused(let reason): "refused: \(reason)"
        case .connect(let reason): "cannot connect: \(reason)"
        case .timedOut(let seconds): "no answer within \(seconds) s"
        case .closed: "the connection closed before a whole answer"
        case .failed(let reason): reason
        }
    }
}

/// The HTTP/1.1 client that posts deliveries, written on NIO rather than a general client so
/// that every connection goes to an address the SSRF guard checked after DNS, no redirect is
/// ever followed, and every exchange has one deadline. Idle connections are kept per
/// (scheme, host, port) and reused; a reused one that turns out closed is replaced once.
public actor WebhookHTTPClient {
    private struct Key: Hashable {
        let host: String
        let port: Int
        let isTLS: Bool
    }

    private struct Idle {
        let channel: any Channel
        let since: NIODeadline
    }

    /// Idle connections kept per target host.
    static let maximumIdlePerHost = 32
    /// How long an idle connection is trusted to be still open.
    static let idleLifetime: TimeAmount = .seconds(20)

    private let group: any EventLoopGroup
    private let policy: AddressPolicy
    private let tls: NIOSSLContext
    private var idle: [Key: [Idle]] = [:]

    public init(policy: AddressPolicy, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) throws {
        self.policy = policy
        self.group = group
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.certificateVerification = .fullVerification
        tls = try NIOSSLContext(configuration: configuration)
    }

    /// POSTs `body` to `target` and returns the answer's status, or throws
    /// ``WebhookSendError``. The whole exchange (resolving, connecting, TLS, answer) ends by
    /// `timeout`.
    public func post(_ target: WebhookTarget, headers: [(String, String)], body: [UInt8], timeout: TimeInterval) async throws(WebhookSendError) -> WebhookResponse {
        let deadline = NIODeadline.now() + .milliseconds(Int64(timeout * 1000))
        let key = Key(host: target.host, port: target.port, isTLS: target.isTLS)
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: target.requestTarget)
        head.headers.add(name: "Host", value: target.hostHeader)
        head.headers.add(name: "User-Agent", value: "Tessera-Webhooks/1")
        head.headers.add(name: "Content-Length", value: String(body.count))
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        if let channel = takeIdle(key) {
            do {
                return try await exchange(on: channel, key: key, head: head, body: body, deadline: deadline, timeout: timeout)
            } catch .closed(receivedHead: false) {
                // The endpoint closed the idle connection meanwhile: nothing was answered.
            }
        }
        let channel = try await connect(target, deadline: deadline, timeout: timeout)
        return try await exchange(on: channel, key: key, head: head, body: body, deadline: deadline, timeout: timeout)
    }

    private func takeIdle(_ key: Key) -> (any Channel)? {
        let now = NIODeadline.now()
        while var list = idle[key], let last = list.popLast() {
            idle[key] = list
            if last.channel.isActive && now - last.since < Self.idleLifetime { return last.channel }
            last.channel.close(promise: nil)
        }
        return nil
    }

    private func exchange(
        on channel: any Channel, key: Key, head: HTTPRequestHead, body: [UInt8], deadline: NIODeadline, timeout: TimeInterval
    ) async throws(WebhookSendError) -> WebhookResponse {
        let answer = channel.eventLoop.makePromise(of: WebhookResponse.self)
        let expired = TimerFlag()
        let timer = channel.eventLoop.scheduleTask(deadline: deadline) {
            expired.fire()
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        let written = channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { answer.fail($0) }
        channel.writeAndFlush(WebhookExchange(head: head, body: ByteBuffer(bytes: body), answer: answer), promise: written)
        let response: WebhookResponse
        do {
            response = try await withTaskCancellationHandler {
                try await answer.futureResult.get()
            } onCancel: {
                channel.close(promise: nil)
            }
        } catch {
            channel.close(promise: nil)
            if expired.fired { throw .timedOut(seconds: Int(timeout.rounded(.up))) }
            if let error = error as? WebhookSendError { throw error }
            throw .failed(String(describing: error))
        }
        if response.keepAlive && (idle[key]?.count ?? 0) < Self.maximumIdlePerHost {
            idle[key, default: []].append(Idle(channel: channel, since: .now()))
        } else {
            channel.close(promise: nil)
        }
        return response
    }

    /// Resolves and checks the target's addresses, then connects to the first that answers.
    private func connect(_ target: WebhookTarget, deadline: NIODeadline, timeout: TimeInterval) async throws(WebhookSendError) -> any Channel {
        let addresses: [IPAddress]
        do {
            addresses = try await target.resolve(policy: policy)
        } catch let invalid as WebhookTarget.Invalid {
            throw .refused(invalid.description)
        } catch {
            throw .refused(String(describing: error))
        }
        let serverName = IPAddress(target.host) == nil ? target.host : nil
        let tls = target.isTLS ? tls : nil
        var lastError = "no address"
        for address in addresses {
            let remaining = deadline - .now()
            guard remaining > .zero else { throw .timedOut(seconds: Int(timeout.rounded(.up))) }
            do {
                let socketAddress = try SocketAddress(ipAddress: address.description, port: target.port)
                return try await ClientBootstrap(group: group)
                    .connectTimeout(remaining)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            if let tls {
                                try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: serverName))
                            }
                            try channel.pipeline.syncOperations.addHandler(ResponseSizeGuard())
                            try channel.pipeline.syncOperations.addHTTPClientHandlers()
                            try channel.pipeline.syncOperations.addHandler(WebhookHTTPHandler())
                        }
                    }
                    .connect(to: socketAddress).get()
            } catch {
                lastError = "\(address) port \(target.port): \(error)"
            }
        }
        throw .connect(lastError)
    }
}

/// One request and the promise of its answer.
struct WebhookExchange {
    let head: HTTPRequestHead
    let body: ByteBuffer
    let answer: EventLoopPromise<WebhookResponse>
}

/// Writes a request and completes its promise with the answer's head and body once the
/// answer ended. One exchange at a time per connection.
final class WebhookHTTPHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = WebhookExchange
    typealias OutboundOut = HTTPClientRequestPart

    private var waiting: EventLoopPromise<WebhookResponse>?
    private var head: HTTPResponseHead?
    private var body: [UInt8] = []

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let exchange = unwrapOutboundIn(data)
        guard waiting == nil else {
            exchange.answer.fail(WebhookSendError.failed("connection busy"))
            promise?.fail(WebhookSendError.failed("connection busy"))
            return
        }
        waiting = exchange.answer
        head = nil
        body = []
        context.write(wrapOutboundOut(.head(exchange.head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(exchange.body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let received):
            if received.status.code >= 200 {
                head = received
                body = []
            }
        case .body(let part):
            body += part.readableBytesView
        case .end:
            guard let head, let waiting else { return }
            self.waiting = nil
            self.head = nil
            let received = body
            body = []
            waiting.succeed(WebhookResponse(
                status: Int(head.status.code), retryAfter: head.headers.first(name: "Retry-After"), body: received, keepAlive: head.isKeepAlive))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        waiting?.fail(WebhookSendError.closed(receivedHead: head != nil))
        waiting = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        waiting?.fail(WebhookSendError.failed(String(describing: error)))
        waiting = nil
        context.close(promise: nil)
    }
}

/// Closes a connection whose endpoint sends more than ``limit`` bytes in answer to one
/// request (headers and body together): an endless answer must not hold memory or the
/// connection until the deadline.
final class ResponseSizeGuard: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    static let limit = 1 << 20
    private var received = 0

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        received = 0
        context.write(data, promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += unwrapInboundIn(data).readableBytes
        guard received <= Self.limit else {
            context.fireErrorCaught(WebhookSendError.failed("the answer was longer than \(Self.limit) bytes"))
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(data)
    }
}
