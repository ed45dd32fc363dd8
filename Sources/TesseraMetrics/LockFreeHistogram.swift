import Atomics
import CoreMetrics

/// A Prometheus histogram whose observations take no lock: one atomic counter per bucket and
/// a compare-and-swap on the sum (contract §12.1, "no lock on the hot paths").
///
/// swift-prometheus's own histogram takes a lock per observation; this one is what
/// ``TesseraMetricsFactory`` hands out for timers and aggregating recorders. The buckets are
/// kept per bucket, not cumulative, and made cumulative when the histogram is written, so a
/// scrape always sees a count equal to its `+Inf` bucket.
public final class LockFreeHistogram: Sendable {
    /// The metric family's name.
    public let name: String
    /// The label pairs of this series, already sanitised.
    public let labels: [(String, String)]
    /// The buckets' inclusive upper bounds, ascending, in the unit written (seconds or a count).
    public let bounds: [Double]
    /// Observations per bucket; the last one is above every bound.
    private let counts: [ManagedAtomic<Int>]
    private let sumBits = ManagedAtomic<UInt64>(Double(0).bitPattern)
    private let renderedLabels: String

    public init(name: String, labels: [(String, String)], bounds: [Double]) {
        precondition(!bounds.isEmpty && zip(bounds, bounds.dropFirst()).allSatisfy { $0 < $1 }, "bounds must ascend")
        self.name = name
        self.labels = labels
        self.bounds = bounds
        self.counts = (0...bounds.count).map { _ in ManagedAtomic(0) }
        self.renderedLabels = labels.map { "\($0.0)=\"\(Exposition.escapedLabelValue($0.1))\"" }.joined(separator: ",")
    }

    /// Adds one observation.
    public func observe(_ value: Double) {
        counts[bucketIndex(value)].wrappingIncrement(ordering: .relaxed)
        var current = sumBits.load(ordering: .relaxed)
        while true {
            let (exchanged, original) = sumBits.compareExchange(
                expected: current, desired: (Double(bitPattern: current) + value).bitPattern, ordering: .relaxed)
            if exchanged { return }
            current = original
        }
    }

    /// The first bucket whose bound is at least `value` (binary search; the bounds are few).
    private func bucketIndex(_ value: Double) -> Int {
        var low = 0
        var high = bounds.count
        while low < high {
            let middle = (low + high) / 2
            if bounds[middle] >= value { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// The cumulative counts per bound, then the total (the `+Inf` bucket), and the sum.
    public func snapshot() -> (cumulative: [Int], count: Int, sum: Double) {
        var running = 0
        var cumulative: [Int] = []
        cumulative.reserveCapacity(bounds.count)
        for index in bounds.indices {
            running += counts[index].load(ordering: .relaxed)
            cumulative.append(running)
        }
        running += counts[bounds.count].load(ordering: .relaxed)
        return (cumulative, running, Double(bitPattern: sumBits.load(ordering: .relaxed)))
    }

    /// Writes the series' `_bucket`, `_sum` and `_count` lines (no `# TYPE` line).
    func write(into output: inout String) {
        let (cumulative, count, sum) = snapshot()
        let prefix = renderedLabels.isEmpty ? "" : renderedLabels + ","
        for (bound, value) in zip(bounds, cumulative) {
            output += "\(name)_bucket{\(prefix)le=\"\(Exposition.number(bound))\"} \(value)\n"
        }
        output += "\(name)_bucket{\(prefix)le=\"+Inf\"} \(count)\n"
        let braces = renderedLabels.isEmpty ? "" : "{\(renderedLabels)}"
        output += "\(name)_sum\(braces) \(Exposition.number(sum))\n"
        output += "\(name)_count\(braces) \(count)\n"
    }
}

/// A timer: nanoseconds observed as seconds.
final class LockFreeTimer: TimerHandler, Sendable {
    let histogram: LockFreeHistogram
    init(_ histogram: LockFreeHistogram) { self.histogram = histogram }
    func recordNanoseconds(_ duration: Int64) { histogram.observe(Double(duration) / 1e9) }
}

/// An aggregating recorder: each value is an observation.
final class LockFreeRecorder: RecorderHandler, Sendable {
    let histogram: LockFreeHistogram
    init(_ histogram: LockFreeHistogram) { self.histogram = histogram }
    func record(_ value: Int64) { histogram.observe(Double(value)) }
    func record(_ value: Double) { histogram.observe(value) }
}
