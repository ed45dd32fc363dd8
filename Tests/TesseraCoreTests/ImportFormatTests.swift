import Foundation
import Testing
import TesseraCore

@Suite("Import files (contract §11.7)")
struct ImportFormatTests {
    /// Splits `text` at line feeds and feeds the splitter, collecting records as strings.
    func records(_ text: String) throws -> [[String]] {
        var splitter = CSVRecordSplitter()
        var found: [[String]] = []
        // By bytes: "\r\n" is one Character in Swift.
        for line in Array(text.utf8).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            if let fields = try splitter.add(line: line) { found.append(fields.map { String(decoding: $0, as: UTF8.self) }) }
        }
        #expect(splitter.unfinished == nil)
        return found
    }

    @Test("CSV: quotes, doubled quotes, commas and line breaks (LF and CRLF) inside quoted fields")
    func csvRecords() throws {
        #expect(try records("a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\r\n\"two\r\nlines\",\"three\nlines\",z") == [
            ["a", "b", "c"], ["x, y", "say \"hi\"", ""], ["two\r\nlines", "three\nlines", "z"],
        ])
        var splitter = CSVRecordSplitter()
        #expect(throws: ImportProblem.self) { try splitter.add(line: Array("a\"b,c".utf8)) }
        #expect(throws: ImportProblem.self) { try splitter.add(line: Array("\"a\"b,c".utf8)) }
        #expect(try splitter.add(line: Array("ok,fine".utf8))?.count == 2, "a bad record does not spoil the next")
        #expect(try splitter.add(line: Array("\"open".utf8)) == nil)
        #expect(splitter.unfinished != nil)
    }

    @Test("the Cognito CSV header takes Cognito's columns only; cognito:username is the id when it is a UUID")
    func cognitoCSV() throws {
        let header = "name,email,email_verified,custom:team,cognito:mfa_enabled,cognito:username".split(separator: ",").map { Array($0.utf8) }
        let reader = try CognitoCSVImport(header: header)
        let id = "7A1B2C3D-0000-4000-8000-000000000001"
        let record = try reader.record(fields: ["Ann", "ann@example.com", "TRUE", "red", "false", id].map { Array($0.utf8) })
        #expect(record.userID == id.lowercased() && record.emailVerified == true && record.attributes == ["name": "Ann", "custom:team": "red"])
        #expect(try reader.record(fields: ["", "b@example.com", "", "", "", "bob"].map { Array($0.utf8) }).userID == nil)
        #expect(throws: ImportProblem.self) { try reader.record(fields: [Array("only one".utf8)]) }
        #expect(throws: ImportProblem.self) { try reader.record(fields: ["", "c@x.io", "maybe", "", "", ""].map { Array($0.utf8) }) }
        #expect(throws: ImportProblem("unknown column \"shoe_size\": not one of Cognito's attributes")) {
            try CognitoCSVImport(header: [Array("email".utf8), Array("shoe_size".utf8)])
        }
        #expect(throws: ImportProblem.self) { try CognitoCSVImport(header: [Array("name".utf8)]) }
        #expect(throws: ImportProblem.self) { try CognitoCSVImport(header: [[0xFF], Array("email".utf8)]) }
    }

    @Test("bcrypt hashes: three prefixes, costs 4-31, kept as imported; Tessera's own kept as they are")
    func hashes() {
        let body = "$10$" + String(repeating: "a", count: 53)
        #expect(PortablePasswordHash.stored(fromPortable: "$2a" + body) == "bcrypt:$2b" + body)
        #expect(PortablePasswordHash.stored(fromPortable: "$2y" + body) == "bcrypt:$2b" + body)
        #expect(PortablePasswordHash.stored(fromPortable: "tessera-v2:$2b" + body) == "tessera-v2:$2b" + body)
        for bad in ["$2x" + body, "$2b$03$" + String(repeating: "a", count: 53), "$2b$32$" + String(repeating: "a", count: 53),
                    "$2b" + body.dropLast(), "$2b" + body.dropLast() + "!", "bcrypt:$2b" + body, "", "plain"] {
            #expect(PortablePasswordHash.stored(fromPortable: bad) == nil, "\(bad)")
        }
        #expect(PortablePasswordHash.portable(fromStored: "bcrypt:$2b" + body) == "$2b" + body)
        #expect(PortablePasswordHash.portable(fromStored: "tessera-v2:$2b" + body) == "tessera-v2:$2b" + body)
    }

    @Test("JSON Lines: types, unknown fields and text are checked; an export line reads back as itself")
    func jsonLines() throws {
        #expect(try JSONLinesImport.record(line: Array("   ".utf8)) == nil)
        for bad in [#"{"email": 1}"#, #"{"email_verified": 1}"#, #"{"attributes": {"a": 1}}"#, #"{"groups": "x"}"#, #"[1]"#,
                    #"{"created_at": "yesterday"}"#, #"{"status": "gone"}"#, #"{"extra": true}"#] {
            #expect(throws: ImportProblem.self, "\(bad)") { try JSONLinesImport.record(line: Array(bad.utf8)) }
        }
        let user = User(
            id: "u1", email: "Ann@Example.com", emailVerified: true, passwordHash: "tessera-v2:$2b$10$" + String(repeating: "b", count: 53),
            status: .disabled, attributes: ["name": "Ann"], createdAt: Date(timeIntervalSince1970: 1_700_000_000.25), updatedAt: Date())
        let line = try JSONLinesExport.line(user, groups: ["b", "a"], withHash: true)
        let record = try #require(try JSONLinesImport.record(line: line))
        let back = try record.checked { "unused" }
        #expect(back == ImportedUser(
            id: "u1", email: "Ann@Example.com", emailVerified: true, status: .disabled, createdAt: user.createdAt, attributes: ["name": "Ann"],
            groups: ["a", "b"], passwordHash: user.passwordHash))
        var missing = ImportRecord()
        missing.email = "x@example.com"
        #expect(try missing.checked { "new-id" }.keepsID == false)
        missing.userID = "bad id"
        #expect(throws: ImportProblem.self) { try missing.checked { "new-id" } }
    }

    @Test("list-users output: users numbered by the line their object starts on; statuses mapped")
    func cognitoJSON() throws {
        let document = """
            {
                "Users": [
                    {
                        "Username": "8d6c0e5a-1111-4111-8111-111111111111",
                        "Attributes": [{"Name": "email", "Value": "a@example.com"}, {"Name": "note", "Value": "{[\\"x"}],
                        "Enabled": true, "UserStatus": "CONFIRMED", "UserCreateDate": "2024-05-01T10:00:00.123000+00:00"
                    },
                    {"Username": "b", "Attributes": [{"Name": "email", "Value": "b@example.com"}], "Enabled": false, "UserStatus": "CONFIRMED"},
                    {"Username": "c", "Attributes": [{"Name": "email", "Value": "c@example.com"}], "UserStatus": "UNCONFIRMED"}
                ]
            }
            """
        let records = try CognitoJSONImport.records(document: Array(document.utf8))
        #expect(records.map(\.line) == [3, 8, 9])
        #expect(throws: ImportProblem("unknown attribute \"note\"")) { try records[0].record.get() }
        #expect(try records[1].record.get().status == .disabled)
        #expect(try records[2].record.get().status == .unconfirmed)
        #expect(throws: ImportProblem.self) { try CognitoJSONImport.records(document: Array("{\"Groups\": []}".utf8)) }
    }
}
