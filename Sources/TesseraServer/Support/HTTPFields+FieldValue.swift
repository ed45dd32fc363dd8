import HTTPTypes

extension HTTPFields {
    /// The value of the field `name`: exactly what `self[name]` returns (`nil` when absent;
    /// repeated fields combined by swift-http-types), but a lone field's value is returned as
    /// it is. For a field that is present, `self[name]` joins the values through a lazy
    /// sequence, about 4 k instructions per read, and every token, introspection and `/v1/me`
    /// request reads one or two such headers (`Authorization`, `Content-Type`).
    func fieldValue(_ name: HTTPField.Name) -> String? {
        var found: String?
        for field in self where field.name == name {
            guard found == nil else { return self[name] }
            found = field.value
        }
        return found
    }
}
