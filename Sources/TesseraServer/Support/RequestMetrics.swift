import Atomics
import CoreMetrics
import HTTPTypes
import Hummingbird
import Synchronization

/// `tessera_http_requests_total{route,method,status}` and
/// `tessera_http_request_duration_seconds{route,method}` (contract §12.1), labelled by the
/// router's route template, never the raw path, so that the series stay as few as the routes.
///
/// The series of every route are made when the router is complete (``record(_:)``), before
/// the first request; a request then finds its route's series in a dictionary nobody writes
/// any more, and its status's counter in a lock-free slot made on the status's first use.
/// Recording a request therefore takes no lock.
final class RequestMetrics: Sendable {
    /// The statuses a route's counters have a lock-free slot for; others (none Tessera sends
    /// today) take a lock on their way to a counter.
    static let slottedStatuses: [Int] = [
        200, 201, 202, 204, 301, 302, 303, 304, 307, 308, 400, 401, 403, 404, 405, 406, 409, 410, 411, 412, 413, 414, 415, 416,
        417, 422, 428, 429, 431, 500, 501, 502, 503, 504,
    ]
    /// `status - 100` → slot, or -1.
    private static let slotOfStatus: [Int8] = {
        var table = [Int8](repeating: -1, count: 500)
        for (slot, status) in slottedStatuses.enumerated() { table[status - 100] = Int8(slot) }
        return table
    }()
    /// Methods named in the `method` label; any other is `other`.
    static let namedMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    /// The `route` label of a request no route matched.
    static let unmatchedRoute = "unmatched"

    /// One route and method's series.
    final class Series: Sendable {
        let route: String
        let method: String
        /// Made on the route's first request, so that routes never called export nothing.
        private let duration = ManagedAtomicLazyReference<Timer>()
        private let factory: any MetricsFactory
        private let slots: [ManagedAtomicLazyReference<Counter>]
        private let others = Mutex<[Int: Counter]>([:])

        init(route: String, method: String, factory: any MetricsFactory) {
            self.route = route
            self.method = method
            self.factory = factory
            slots = RequestMetrics.slottedStatuses.map { _ in ManagedAtomicLazyReference() }
        }

        private func makeCounter(_ status: Int) -> Counter {
            Counter(label: "tessera_http_requests_total", dimensions: [("route", route), ("method", method), ("status", String(status))], factory: factory)
        }

        /// Counts one request answered with `status` and observes its duration in seconds.
        func record(status: Int, nanoseconds: Int64) {
            let timer = duration.load() ?? duration.storeIfNilThenLoad(
                Timer(label: "tessera_http_request_duration_seconds", dimensions: [("route", route), ("method", method)], factory: factory))
            timer.recordNanoseconds(nanoseconds)
            let slot = (100..<600).contains(status) ? Int(RequestMetrics.slotOfStatus[status - 100]) : -1
            if slot >= 0 {
                // Two first requests may both make the counter: the registry hands back the
                // same one for the same labels, and only one is stored.
                let counter = slots[slot].load() ?? slots[slot].storeIfNilThenLoad(makeCounter(status))
                counter.increment()
            } else {
                others.withLock { table in
                    if let counter = table[status] { return counter }
                    let counter = makeCounter(status)
                    table[status] = counter
                    return counter
                }.increment()
            }
        }
    }

    private struct Key: Hashable {
        let route: String
        let method: String
    }

    private let factory: any MetricsFactory
    /// Written once by ``record(_:)``, before the server accepts a connection.
    private let table = ManagedAtomicLazyReference<Table>()
    private final class Table: Sendable {
        let series: [Key: Series]
        init(_ series: [Key: Series]) { self.series = series }
    }
    /// Requests no route matched, and routes ``record(_:)`` did not see.
    private let late = Mutex<[Key: Series]>([:])

    init(factory: any MetricsFactory) {
        self.factory = factory
    }

    /// The label a method is counted under.
    static func methodLabel(_ method: HTTPRequest.Method) -> String {
        namedMethods.contains(method.rawValue) ? method.rawValue : "other"
    }

    /// Makes the series of every route of the complete router (HEAD beside each GET, which
    /// the router answers too).
    func record(_ routes: [Router<TesseraRequestContext>.RouteDescription]) {
        var series: [Key: Series] = [:]
        for route in routes {
            let path = route.path.description
            for method in route.method == .get ? [HTTPRequest.Method.get, .head] : [route.method] {
                let key = Key(route: path, method: Self.methodLabel(method))
                if series[key] == nil { series[key] = Series(route: key.route, method: key.method, factory: factory) }
            }
        }
        _ = table.storeIfNilThenLoad(Table(series))
    }

    /// The series of a request whose route template is `route` (nil: no route matched).
    func series(route: String?, method: HTTPRequest.Method) -> Series {
        let key = Key(route: route ?? Self.unmatchedRoute, method: Self.methodLabel(method))
        if let found = table.load()?.series[key] { return found }
        return late.withLock { late in
            if let found = late[key] { return found }
            let made = Series(route: key.route, method: key.method, factory: factory)
            late[key] = made
            return made
        }
    }
}
