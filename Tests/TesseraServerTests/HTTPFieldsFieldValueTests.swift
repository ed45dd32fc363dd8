import HTTPTypes
import Testing
@testable import TesseraServer

@Suite("Reading one header field")
struct HTTPFieldsFieldValueTests {
    static let cases: [HTTPFields] = [
        [:],
        [.accept: "a"],
        [.authorization: "Basic eA=="],
        [.accept: "a", .authorization: "Bearer t", .contentType: "text/plain"],
        [.authorization: "Basic eA==", .accept: "a", .authorization: "Bearer t"],
        [.cookie: "a=1", .cookie: "b=2"],
        [.authorization: ""],
    ]

    @Test("the value is what swift-http-types' subscript gives, for absent, lone and repeated fields",
          arguments: cases)
    func sameAsSubscript(_ fields: HTTPFields) {
        for name in [HTTPField.Name.authorization, .cookie, .accept, .contentType, .ifNoneMatch] {
            #expect(fields.fieldValue(name) == fields[name])
        }
    }

    @Test("names are compared case-insensitively, as HTTP requires")
    func caseInsensitive() {
        let fields: HTTPFields = [HTTPField.Name("AUTHORIZATION")!: "Bearer t"]
        #expect(fields.fieldValue(.authorization) == "Bearer t")
    }
}
