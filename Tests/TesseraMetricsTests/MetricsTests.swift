import CoreMetrics
import Testing
import TesseraCore
@testable import TesseraMetrics

@Suite("Metrics backend")
struct MetricsTests {
    @Test("a histogram observed from many tasks at once loses no observation and keeps its buckets cumulative")
    func histogramRaces() async {
        let histogram = LockFreeHistogram(name: "t_seconds", labels: [("route", "/x")], bounds: [0.001, 0.01, 0.1])
        for _ in 0..<5 {
            await withTaskGroup(of: Void.self) { group in
                for task in 0..<16 {
                    group.addTask {
                        for index in 0..<1_000 { histogram.observe([0.0005, 0.005, 0.05, 0.5][(task + index) % 4]) }
                    }
                }
            }
        }
        let (cumulative, count, sum) = histogram.snapshot()
        #expect(count == 80_000)
        #expect(cumulative == [20_000, 40_000, 60_000])
        #expect(abs(sum - 20_000 * (0.0005 + 0.005 + 0.05 + 0.5)) < 1e-6)
    }

    @Test("the factory hands out one series per name and labels, and writes histograms in the text format")
    func factoryExposition() {
        let factory = TesseraMetricsFactory()
        let timer = Timer(label: "tessera_db_commit_seconds", factory: factory)
        timer.recordNanoseconds(2_000_000)
        Timer(label: "tessera_db_commit_seconds", factory: factory).recordNanoseconds(20_000_000_000)
        Counter(label: "tessera_logins_total", dimensions: [("result", "success")], factory: factory).increment(by: 3)
        let text = factory.exposition()
        #expect(text.contains("# TYPE tessera_db_commit_seconds histogram\n"))
        #expect(text.contains("tessera_db_commit_seconds_bucket{le=\"0.0025\"} 1\n"))
        #expect(text.contains("tessera_db_commit_seconds_bucket{le=\"10\"} 1\n"))
        #expect(text.contains("tessera_db_commit_seconds_bucket{le=\"+Inf\"} 2\n"))
        #expect(text.contains("tessera_db_commit_seconds_count 2\n"))
        #expect(text.contains("tessera_db_commit_seconds_sum 20.002\n"))
        #expect(text.contains("tessera_logins_total{result=\"success\"} 3\n"))
    }

    @Test("OpenMetrics names counter families without _total, keeps it on samples, and ends with # EOF")
    func openMetrics() {
        let text = "# TYPE tessera_logins_total counter\ntessera_logins_total{result=\"success\"} 3\n# TYPE g gauge\ng 1.0\n"
        let rendered = Exposition.openMetrics.render(text)
        #expect(rendered == "# TYPE tessera_logins counter\ntessera_logins_total{result=\"success\"} 3\n# TYPE g gauge\ng 1.0\n# EOF\n")
        #expect(Exposition.text.render(text) == text)
        #expect(Exposition(accept: "application/openmetrics-text;version=1.0.0") == .openMetrics)
        #expect(Exposition(accept: "text/plain") == .text)
        #expect(Exposition(accept: nil) == .text)
    }

    @Test("label values are escaped as the format says")
    func labelEscaping() {
        let histogram = LockFreeHistogram(name: "h", labels: [("route", "a\"b\\c\nd")], bounds: [1])
        var output = ""
        histogram.write(into: &output)
        #expect(output.contains("h_count{route=\"a\\\"b\\\\c\\nd\"} 0\n"))
    }

    @Test("process metrics come from /proc")
    func processMetrics() {
        let text = ProcessMetrics.exposition()
        for name in ["process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds", "process_max_fds", "process_start_time_seconds"] {
            #expect(text.contains("\n\(name) ") || text.hasPrefix("# TYPE \(name)"), "\(name) in \(text)")
        }
    }

    @Test("the domain series exist at zero from the start, one per label value")
    func serviceMetricsStartAtZero() {
        let factory = TesseraMetricsFactory()
        let metrics = ServiceMetrics(factory: factory)
        metrics.login(.locked)
        let text = factory.exposition()
        #expect(text.contains("tessera_logins_total{result=\"locked\"} 1\n"))
        #expect(text.contains("tessera_logins_total{result=\"migrated\"} 0\n"))
        #expect(text.contains("tessera_tokens_issued_total{grant=\"client_credentials\"} 0\n"))
        #expect(text.contains("tessera_refresh_reuse_detected_total 0\n"))
    }
}
