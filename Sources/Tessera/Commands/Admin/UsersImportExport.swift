import ArgumentParser
import Foundation
import TesseraCore
import TesseraCrypto

extension UsersCommand {
    /// `tessera admin users import FILE` (contract §11.7).
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import users from Cognito's CSV, `aws cognito-idp list-users` JSON or Tessera's JSON Lines.",
            discussion: """
                Each user keeps its id (Cognito's sub), status, verification, attributes and groups. A re-run updates the
                users it finds and never duplicates one. A line that cannot be imported is reported on standard error with its
                line number and the others go on. Exit 0 when every line was imported, 1 when some were reported.

                Examples:
                  tessera admin users import users.jsonl
                  aws cognito-idp list-users --user-pool-id $POOL > users.json
                  aws cognito-idp list-groups --user-pool-id $POOL > groups.json
                  aws cognito-idp list-users-in-group --user-pool-id $POOL --group-name admins > admins.json
                  tessera admin users import users.json --groups groups.json --members admins=admins.json --dry-run
                """)
        @Argument(help: "The file to read.") var file: String
        @Option(help: "cognito-csv, cognito-json or jsonl (default: from the file name: .csv, .json, else jsonl).") var format: String?
        @Flag(name: .customLong("dry-run"), help: "Check every line against the database and write nothing.") var dryRun = false
        @Option(help: "Groups to create first: the output of `aws cognito-idp list-groups`.") var groups: String?
        @Option(help: "GROUP=FILE: the members of GROUP, as `aws cognito-idp list-users-in-group` prints them (repeatable).")
        var members: [String] = []
        @OptionGroup var options: AdminOptions

        func validate() throws {
            if let format, ImportFormat(rawValue: format) == nil { throw ValidationError("--format must be cognito-csv, cognito-json or jsonl") }
            for member in members where member.split(separator: "=", maxSplits: 1).count != 2 {
                throw ValidationError("--members takes GROUP=FILE")
            }
        }

        var resolvedFormat: ImportFormat {
            if let format, let known = ImportFormat(rawValue: format) { return known }
            if file.lowercased().hasSuffix(".csv") { return .cognitoCSV }
            if file.lowercased().hasSuffix(".json") { return .cognitoJSON }
            return .jsonLines
        }

        func run() async throws {
            let context = try await AdminContext(options)
            let reader = try ImportFileReader(path: file)
            let progress = ImportProgress(total: reader.size, label: dryRun ? "checked" : "imported")
            let importer = UserImporter(store: context.storage, dryRun: dryRun, crypto: OpenSSLPrimitives(), now: { Date() }) { line, reason in
                progress.clearLine()
                FileHandle.standardError.write(Data("\(file):\(line): \(reason)\n".utf8))
            }
            var groupProblems = 0
            if let groups { groupProblems += try await importGroups(groups, context: context) }
            try await reader.records(format: resolvedFormat) { record in
                try await importer.add(record)
                progress.update(records: importer.counts.processed, bytes: reader.bytesRead)
            } broken: { line, problem in
                importer.fail(line, problem.message)
            }
            try await importer.flush()
            for member in members { groupProblems += try await importMembers(member, context: context, importer: importer) }
            progress.clearLine()
            let counts = importer.counts
            if !dryRun {
                try await context.audit(
                    "users.import", target: file,
                    details: "created \(counts.created), updated \(counts.updated), unchanged \(counts.unchanged), failed \(counts.failed)")
            }
            try context.emit(
                json: ["created": counts.created, "updated": counts.updated, "unchanged": counts.unchanged, "failed": counts.failed + groupProblems,
                       "dry_run": dryRun],
                text: "\(dryRun ? "dry run: would create" : "created") \(counts.created), \(dryRun ? "would update" : "updated") \(counts.updated), unchanged \(counts.unchanged), failed \(counts.failed + groupProblems)")
            let failed = counts.failed + groupProblems
            if failed > 0 { throw AdminError.incomplete("\(failed) \(failed == 1 ? "line was" : "lines were") not imported (reported above)") }
        }

        /// Creates (or updates) the groups of a `list-groups` file; returns how many problems
        /// were reported.
        func importGroups(_ path: String, context: AdminContext) async throws -> Int {
            let groups: [ImportedGroup]
            do throws(ImportProblem) {
                groups = try CognitoGroupsImport.groups(document: try ImportFileReader.wholeFile(path))
            } catch {
                FileHandle.standardError.write(Data("\(path): \(error.message)\n".utf8))
                return 1
            }
            guard !dryRun else { return 0 }
            for group in groups {
                let now = Date()
                do {
                    try await context.storage.createGroup(UserGroup(
                        name: group.name, description: group.description, precedence: group.precedence, createdAt: now, updatedAt: now))
                } catch StorageError.alreadyExists {
                    _ = try await context.storage.updateGroup(named: group.name, description: group.description, precedence: group.precedence, now: now)
                }
            }
            return 0
        }

        /// Adds the members a `list-users-in-group` file lists to GROUP (created when missing);
        /// returns how many problems were reported.
        func importMembers(_ argument: String, context: AdminContext, importer: UserImporter) async throws -> Int {
            let parts = argument.split(separator: "=", maxSplits: 1).map(String.init)
            let (name, path) = (parts[0], parts[1])
            let ids: [String]
            do throws(ImportProblem) {
                guard UserGroup.isValidName(name) else { throw ImportProblem("\(name) is not a valid group name") }
                ids = try CognitoGroupsImport.memberIDs(document: try ImportFileReader.wholeFile(path))
            } catch {
                FileHandle.standardError.write(Data("\(path): \(error.message)\n".utf8))
                return 1
            }
            var problems = 0
            let now = Date()
            if !dryRun, try await context.storage.group(named: name) == nil {
                try? await context.storage.createGroup(UserGroup(name: name, description: nil, precedence: nil, createdAt: now, updatedAt: now))
            }
            for id in ids {
                if dryRun {
                    if !importer.hasSeen(id: id), try await context.storage.user(id: id) == nil {
                        FileHandle.standardError.write(Data("\(path): member \(id) of \(name) is not a user\n".utf8))
                        problems += 1
                    }
                    continue
                }
                do {
                    try await context.storage.addMember(group: name, userID: id, now: now)
                } catch StorageError.notFound {
                    FileHandle.standardError.write(Data("\(path): member \(id) of \(name) is not a user\n".utf8))
                    problems += 1
                }
            }
            return problems
        }
    }

    /// `tessera admin users export` (contract §11.7).
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write every user as Tessera's JSON Lines (what `users import` reads).",
            discussion: """
                With --with-hashes each line carries the user's bcrypt password hash: treat the file as a secret.

                Examples:
                  tessera admin users export > users.jsonl
                  tessera admin users export --with-hashes --output /secure/users.jsonl
                """)
        @Flag(name: .customLong("with-hashes"), help: "Include password hashes.") var withHashes = false
        @Option(help: "Write to this file (created with mode 0600) instead of standard output.") var output: String?
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let context = try await AdminContext(options)
            let handle: FileHandle
            if let output {
                let descriptor = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
                guard descriptor >= 0 else { throw AdminError.usage("cannot write \(output): \(String(cString: strerror(errno)))") }
                handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
            } else {
                handle = FileHandle.standardOutput
            }
            if withHashes { try await context.audit("users.export", target: output, details: "with password hashes") }
            var after: String?
            var buffer: [UInt8] = []
            var count = 0
            while true {
                let users = try await context.storage.listUsers(limit: 1000, after: after, emailPrefix: nil, status: nil)
                for user in users {
                    let groups = try await context.storage.groups(ofUser: user.id).map(\.name)
                    buffer += try JSONLinesExport.line(user, groups: groups, withHash: withHashes)
                    buffer.append(UInt8(ascii: "\n"))
                }
                count += users.count
                if buffer.count > 1 << 20 || users.count < 1000 {
                    try handle.write(contentsOf: buffer)
                    buffer.removeAll(keepingCapacity: true)
                }
                guard users.count == 1000, let last = users.last else { break }
                after = last.id
            }
            if output != nil { try handle.synchronize() }
            // On standard error: standard output may be the export itself.
            FileHandle.standardError.write(Data("exported \(count) users\n".utf8))
        }
    }
}

/// Reads an import file: whole (JSON documents) or by line, in 1 MiB chunks, so a file of a
/// million users is never held in memory at once.
final class ImportFileReader {
    let path: String
    let size: Int
    private let handle: FileHandle
    private(set) var bytesRead = 0

    init(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw AdminError.usage("cannot read \(path)") }
        self.path = path
        self.handle = handle
        size = ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? Int) ?? 0
    }

    static func wholeFile(_ path: String) throws(ImportProblem) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw ImportProblem("cannot read the file") }
        return Array(data)
    }

    /// Calls `each` with every record of the file in `format`, and `broken` with the line
    /// number and problem of each part that is not a record at all.
    func records(
        format: ImportFormat, _ each: (NumberedRecord) async throws -> Void, broken: (Int, ImportProblem) -> Void
    ) async throws {
        switch format {
        case .jsonLines:
            try await lines { number, line in
                let parsed: ImportRecord?
                do throws(ImportProblem) { parsed = try JSONLinesImport.record(line: line) } catch {
                    broken(number, error)
                    return
                }
                if let parsed { try await each(NumberedRecord(line: number, record: .success(parsed))) }
            }
        case .cognitoJSON:
            let document: [UInt8]
            do throws(ImportProblem) { document = try Self.wholeFile(path) } catch { throw AdminError.usage("\(path): \(error.message)") }
            bytesRead = document.count
            let records: [NumberedRecord]
            do throws(ImportProblem) { records = try CognitoJSONImport.records(document: document) } catch {
                broken(1, error)
                return
            }
            for record in records { try await each(record) }
        case .cognitoCSV:
            var header: CognitoCSVImport?
            var splitter = CSVRecordSplitter()
            var start = 1
            var headerBroken = false
            try await lines { number, line in
                guard !headerBroken else { return }
                if !splitter.isInsideRecord { start = number }
                let fields: [[UInt8]]
                do throws(ImportProblem) {
                    guard let complete = try splitter.add(line: line) else { return }
                    fields = complete
                } catch {
                    broken(start, error)
                    return
                }
                if fields.count == 1 && fields[0].isEmpty { return }
                guard let reader = header else {
                    do throws(ImportProblem) { header = try CognitoCSVImport(header: fields) } catch {
                        broken(start, error)
                        headerBroken = true
                    }
                    return
                }
                let record: ImportRecord
                do throws(ImportProblem) { record = try reader.record(fields: fields) } catch {
                    broken(start, error)
                    return
                }
                try await each(NumberedRecord(line: start, record: .success(record)))
            }
            if let unfinished = splitter.unfinished { broken(start, unfinished) }
        }
    }

    /// Calls `body` with each line (without its `\n`) and its number, from 1.
    private func lines(_ body: (Int, ArraySlice<UInt8>) async throws -> Void) async throws {
        var carry: [UInt8] = []
        var number = 0
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            bytesRead += chunk.count
            carry += chunk
            var start = carry.startIndex
            while let newline = carry[start...].firstIndex(of: UInt8(ascii: "\n")) {
                number += 1
                try await body(number, carry[start..<newline])
                start = newline + 1
            }
            carry.removeSubrange(..<start)
        }
        if !carry.isEmpty {
            number += 1
            try await body(number, carry[...])
        }
    }
}

/// The import's progress on standard error: a bar redrawn in place on a terminal, a line
/// every 10,000 users otherwise.
final class ImportProgress {
    let total: Int
    let label: String
    let isTerminal = isatty(STDERR_FILENO) == 1
    private var lastDrawn = Date.distantPast
    private var lastCount = 0

    init(total: Int, label: String) {
        self.total = total
        self.label = label
    }

    func update(records: Int, bytes: Int) {
        if isTerminal {
            let now = Date()
            guard now.timeIntervalSince(lastDrawn) > 0.1 else { return }
            lastDrawn = now
            let fraction = total > 0 ? min(1, Double(bytes) / Double(total)) : 0
            let filled = Int(fraction * 30)
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: 30 - filled)
            FileHandle.standardError.write(Data("\r[\(bar)] \(Int(fraction * 100))% \(records) users \(label)".utf8))
        } else if records / 10_000 > lastCount / 10_000 {
            lastCount = records
            FileHandle.standardError.write(Data("\(records) users \(label)\n".utf8))
        }
    }

    /// Clears the bar: before a report line is written, and at the end.
    func clearLine() {
        if isTerminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
