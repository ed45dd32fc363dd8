#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The standard `process_*` metrics of the running process, read from `/proc` at each scrape
/// (Linux; elsewhere only what `getrlimit` and the clock can say).
public enum ProcessMetrics {
    /// The lines for `process_cpu_seconds_total`, `process_resident_memory_bytes`,
    /// `process_virtual_memory_bytes`, `process_open_fds`, `process_max_fds` and
    /// `process_start_time_seconds`, each with its `# TYPE` line.
    public static func exposition() -> String {
        var output = ""
        func add(_ name: String, _ type: String, _ value: Double?) {
            guard let value else { return }
            output += "# TYPE \(name) \(type)\n\(name) \(Exposition.number(value))\n"
        }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        let stat = statFields()
        // Fields after the command: index 11 and 12 are utime and stime (man 5 proc: 14 and 15),
        // 19 the start time in ticks since boot, 20 the virtual size, 21 the resident pages.
        add("process_cpu_seconds_total", "counter", stat.map { (Double($0[11]) ?? 0) / ticks + (Double($0[12]) ?? 0) / ticks })
        add("process_resident_memory_bytes", "gauge", stat.flatMap { Double($0[21]) }.map { $0 * pageSize })
        add("process_virtual_memory_bytes", "gauge", stat.flatMap { Double($0[20]) })
        add("process_open_fds", "gauge", (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")).map { Double($0.count) })
        var limit = rlimit()
        add("process_max_fds", "gauge", getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 ? Double(limit.rlim_cur) : nil)
        if let stat, let started = Double(stat[19]), let boot = bootTime() {
            add("process_start_time_seconds", "gauge", boot + started / ticks)
        }
        return output
    }

    /// `/proc/self/stat`'s fields after the `(command)`, which may itself hold spaces.
    private static func statFields() -> [String]? {
        guard let text = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ").map(String.init)
        return fields.count > 21 ? fields : nil
    }

    /// The boot time in seconds since the epoch (`btime` in `/proc/stat`).
    private static func bootTime() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst("btime ".count).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }
}
