import Foundation
import Synchronization

/// A throwaway PostgreSQL cluster for the tests: `initdb` into a temporary directory, started
/// with `pg_ctl` on a private Unix socket (no TCP port), `fsync=off` (correctness tests only),
/// stopped when the test process exits. Run as the `postgres` user when the tests run as
/// root, since PostgreSQL refuses root. `TESSERA_TEST_POSTGRES_URL` (a `postgres://` URL of a
/// superuser) names an existing server instead.
///
/// A missing PostgreSQL is an error, never a skip: the PostgreSQL half of the suite is
/// mandatory (`.ci/run` installs Debian's `postgresql`).
public enum PostgresTestCluster {
    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    private static let started = Mutex<Result<String, Unavailable>?>(nil)
    private static let counter = Mutex(0)

    /// The cluster this process started, stopped at exit.
    private struct Running {
        let pgctl: String
        let data: String
        let root: String
        let asPostgres: Bool
    }

    private static let toStop = Mutex<Running?>(nil)

    private static func stopAtExit() {
        guard let running = toStop.withLock({ $0 }) else { return }
        _ = try? run(running.pgctl, ["-D", running.data, "-m", "immediate", "stop"], asPostgres: running.asPostgres)
        try? FileManager.default.removeItem(atPath: running.root)
    }

    /// The URL of a fresh, empty database on the shared cluster.
    public static func makeDatabase() throws -> String {
        let base = try serverURL()
        let name = "t\(ProcessInfo.processInfo.processIdentifier)_\(counter.withLock { $0 += 1; return $0 })"
        try psql(base, "CREATE DATABASE \(name)")
        return base.replacingOccurrences(of: "/postgres?", with: "/\(name)?")
    }

    /// The superuser URL of the cluster (its `postgres` database), starting it on first use.
    public static func serverURL() throws -> String {
        try started.withLock { state in
            if state == nil {
                do throws(Unavailable) {
                    state = .success(try start())
                } catch {
                    state = .failure(error)
                }
            }
            return try state!.get()
        }
    }

    private static func start() throws(Unavailable) -> String {
        if let url = ProcessInfo.processInfo.environment["TESSERA_TEST_POSTGRES_URL"], !url.isEmpty { return url }
        guard let bin = binDirectory() else {
            throw Unavailable(description: "PostgreSQL is not installed (initdb and pg_ctl not found); apt-get install postgresql")
        }
        let asRoot = getuid() == 0
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-pg-\(UUID().uuidString)").path
        let data = root + "/data"
        let socket = root + "/socket"
        do {
            try FileManager.default.createDirectory(atPath: socket, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            if asRoot { try run("/bin/chown", ["-R", "postgres:postgres", root]) }
            try run(bin + "/initdb", ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"], asPostgres: asRoot)
            try run(bin + "/pg_ctl", [
                "-D", data, "-l", root + "/server.log", "-w", "-t", "60",
                "-o", "-k \(socket) -c listen_addresses= -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
                "start",
            ], asPostgres: asRoot)
        } catch {
            throw Unavailable(description: "could not start a test cluster in \(root): \(error)")
        }
        toStop.withLock { $0 = Running(pgctl: bin + "/pg_ctl", data: data, root: root, asPostgres: asRoot) }
        atexit { PostgresTestCluster.stopAtExit() }
        return "postgres://postgres@/postgres?host=\(socket)&sslmode=disable"
    }

    /// Runs one SQL statement as the superuser with `psql`.
    static func psql(_ url: String, _ sql: String) throws {
        guard let bin = binDirectory() else { throw Unavailable(description: "psql not found") }
        try run(bin + "/psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql], asPostgres: false)
    }

    static func binDirectory() -> String? {
        let candidates = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).sorted().reversed()
            .map { "/usr/lib/postgresql/\($0)/bin" } + ["/usr/local/bin", "/usr/bin"]
        return candidates.first { directory in
            ["initdb", "pg_ctl", "psql"].allSatisfy { FileManager.default.isExecutableFile(atPath: directory + "/" + $0) }
        }
    }

    /// Runs `tool` to its end with `posix_spawn` and `waitpid`, its output in a file (a server
    /// that `pg_ctl` starts would hold a pipe open for as long as it runs). Foundation's
    /// `Process` is not used: under the test runner its wait did not always see the child end.
    static func run(_ tool: String, _ arguments: [String], asPostgres: Bool = false) throws {
        let argv = asPostgres ? ["/usr/sbin/runuser", "-u", "postgres", "--", tool] + arguments : [tool] + arguments
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-pg-\(UUID().uuidString).out").path
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var cArguments = argv.map { strdup($0) } + [nil]
        defer { for argument in cArguments { free(argument) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, &cArguments, environ)
        guard spawned == 0 else { throw Unavailable(description: "cannot run \(argv[0]): error \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        guard exited == 0 else {
            let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            throw Unavailable(description: "\(URL(fileURLWithPath: tool).lastPathComponent) exited \(exited): \(text.suffix(500))")
        }
    }
}
