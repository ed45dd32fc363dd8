import Foundation
import Testing
@testable import TesseraServer

@Suite("JSON bodies")
struct JSONBodyTests {
    @Test("a name repeated in one object is found, compared after unescaping, at any depth", arguments: [
        (#"{"a":1,"a":2}"#, "a"),
        (#"{"a":1,"\u0061":2}"#, "a"),
        (#"{"x":{"k":1,"k":2}}"#, "k"),
        (#"[{"a":1},{"b":2,"c":[],"b":3}]"#, "b"),
        (#"{"a\\":1,"a\\":2}"#, #"a\"#),
        (#"{"é":1,"\u00e9":2}"#, "é"),
    ])
    func repeated(json: String, name: String) {
        #expect(JSONBody.firstRepeatedName(in: Data(json.utf8)) == name)
    }

    @Test("one name in different objects, or inside string values, is not a repetition", arguments: [
        #"{"a":1,"b":2}"#,
        #"{"a":{"a":1},"b":[{"a":1},{"a":2}]}"#,
        #"{"s":"a\"b","t":"{\"s\":1,\"s\":2}"}"#,
        #"{"a":"a","b":"a"}"#,
        #"{"a":"\\","b":{"a":"\"}"}}"#,
        #"[]"#, #"{}"#, #""a""#,
        // Malformed (never reaches the scan through `decode`): it stops instead of trapping.
        #"{"a"#, #"{"a"#, "}", "]]", ",", #"{"a":1,"a"#, "",
    ])
    func distinct(json: String) {
        #expect(JSONBody.firstRepeatedName(in: Data(json.utf8)) == nil)
    }
}

extension JSONBodyTests {
    /// Random documents of nested objects, arrays and strings whose names come from a small
    /// set, spelled plainly or escaped, so that some objects repeat a name and most do not.
    struct Document {
        var text = ""
        var repeatedNames: Set<String> = []
        var generator: SplitMix

        static let names: [(name: String, spellings: [String])] = [
            ("a", [#""a""#, #""\u0061""#]), ("b\"", [#""b\"""#, #""\u0062\u0022""#]),
            ("{", [#""{""#]), ("\\", [#""\\""#, #""\u005C""#]), ("é", [#""é""#, #""\u00e9""#]),
        ]

        mutating func value(depth: Int) {
            switch depth > 3 ? 2 : generator.next(below: 4) {
            case 0:
                text += "{"
                var seen: Set<String> = []
                for member in 0..<generator.next(below: 4) {
                    let (name, spellings) = Self.names[generator.next(below: Self.names.count)]
                    if !seen.insert(name).inserted { repeatedNames.insert(name) }
                    text += (member > 0 ? "," : "") + spellings[generator.next(below: spellings.count)] + ":"
                    value(depth: depth + 1)
                }
                text += "}"
            case 1:
                text += "["
                for element in 0..<generator.next(below: 3) {
                    text += element > 0 ? ", " : ""
                    value(depth: depth + 1)
                }
                text += "]"
            default:
                text += [#""a""#, #""{\"a\":1,\"a\":2}""#, #""\\""#, "12", "null"][generator.next(below: 5)]
            }
        }
    }

    /// A seeded generator (SplitMix64), so a failure repeats.
    struct SplitMix {
        var state: UInt64
        mutating func next(below bound: Int) -> Int {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(bound))
        }
    }

    @Test("on 2,000 random documents a repetition is found exactly where one was written")
    func randomDocuments() throws {
        var repeating = 0
        for seed in 0..<2000 {
            var document = Document(generator: SplitMix(state: UInt64(seed)))
            document.value(depth: 0)
            let data = Data(document.text.utf8)
            #expect(throws: Never.self, "\(document.text) is valid JSON") {
                try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
            }
            let found = JSONBody.firstRepeatedName(in: data)
            if document.repeatedNames.isEmpty {
                #expect(found == nil, "\(document.text)")
            } else {
                repeating += 1
                #expect(found.map(document.repeatedNames.contains) == true, "\(document.text)")
            }
        }
        #expect(repeating > 100, "the generator must also write repetitions")
    }
}
