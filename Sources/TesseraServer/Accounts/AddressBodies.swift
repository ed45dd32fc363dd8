/// Request bodies that name an address, shared by the lifecycle and address endpoints.
struct AddressBody: Decodable {
    let email: String
    static let keys: Set<String> = ["email"]
}

/// An address and the code mailed to it.
struct AddressCodeBody: Decodable {
    let email: String
    let code: String
    static let keys: Set<String> = ["email", "code"]
}
