import CoreMetrics
import Prometheus
import Synchronization

/// The swift-metrics backend of a Tessera process (contract §12.1).
///
/// Counters and gauges are swift-prometheus's (atomics), kept in one
/// `PrometheusCollectorRegistry` owned by this factory, never the global default one. Timers
/// and aggregating recorders are ``LockFreeHistogram``s, because swift-prometheus's histogram
/// locks per observation. Creating a handle takes a lock; recording into one never does, so
/// callers create their handles once and keep them.
public final class TesseraMetricsFactory: MetricsFactory, Sendable {
    /// Bucket bounds in seconds for request and database timers: 0.5 ms to 10 s.
    public static let durationBounds: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    /// Bucket bounds in seconds for password hashing, whose cost is tens to hundreds of ms.
    public static let passwordHashBounds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4]
    /// Bucket bounds for counts (transactions per group commit).
    public static let sizeBounds: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]

    public let registry: PrometheusCollectorRegistry
    private let prometheus: PrometheusMetricsFactory
    private let boundsByName: [String: [Double]]
    /// Histograms by name, then by their label pairs; touched only when a handle is made or
    /// a scrape writes them.
    private let histograms = Mutex<[String: [String: LockFreeHistogram]]>([:])

    /// - Parameter bounds: bucket bounds for named histograms; others get ``durationBounds``
    ///   (timers) or ``sizeBounds`` (recorders).
    public init(bounds: [String: [Double]] = [
        "tessera_password_hash_seconds": passwordHashBounds,
        "tessera_db_group_commit_size": sizeBounds,
    ]) {
        registry = PrometheusCollectorRegistry()
        prometheus = PrometheusMetricsFactory(registry: registry)
        boundsByName = bounds
    }

    private func histogram(_ label: String, _ dimensions: [(String, String)], defaultBounds: [Double]) -> LockFreeHistogram {
        let name = Exposition.metricName(label)
        let labels = dimensions.map { (Exposition.metricName($0.0), $0.1) }
        let key = labels.map { "\($0.0)=\($0.1)" }.joined(separator: "\u{0}")
        return histograms.withLock { table in
            if let existing = table[name]?[key] { return existing }
            let made = LockFreeHistogram(name: name, labels: labels, bounds: boundsByName[name] ?? defaultBounds)
            table[name, default: [:]][key] = made
            return made
        }
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        prometheus.makeCounter(label: label, dimensions: dimensions)
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        prometheus.makeFloatingPointCounter(label: label, dimensions: dimensions)
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return prometheus.makeRecorder(label: label, dimensions: dimensions, aggregate: false) }
        return LockFreeRecorder(histogram(label, dimensions, defaultBounds: Self.sizeBounds))
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        prometheus.makeMeter(label: label, dimensions: dimensions)
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        LockFreeTimer(histogram(label, dimensions, defaultBounds: Self.durationBounds))
    }

    public func destroyCounter(_ handler: any CounterHandler) { prometheus.destroyCounter(handler) }
    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) { prometheus.destroyFloatingPointCounter(handler) }
    public func destroyMeter(_ handler: any MeterHandler) { prometheus.destroyMeter(handler) }
    /// Histograms live as long as the process, like the counters a scrape expects to find again.
    public func destroyRecorder(_ handler: any RecorderHandler) {
        if !(handler is LockFreeRecorder) { prometheus.destroyRecorder(handler) }
    }
    public func destroyTimer(_ handler: any TimerHandler) {}

    /// Every metric in the text exposition format 0.0.4, families in a stable order.
    public func exposition() -> String {
        var output = String(decoding: registry.emitToBuffer(), as: UTF8.self)
        let families = histograms.withLock { $0 }
        for name in families.keys.sorted() {
            output += "# TYPE \(name) histogram\n"
            for key in families[name]!.keys.sorted() {
                families[name]![key]!.write(into: &output)
            }
        }
        return output
    }
}
