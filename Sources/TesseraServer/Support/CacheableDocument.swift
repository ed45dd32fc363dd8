import Foundation
import HTTPTypes
import Hummingbird
import TesseraCore

extension PublishedDocument {
    /// A public, cacheable JSON response with this document's `ETag`; `304 Not Modified`
    /// when the request's `If-None-Match` names it.
    func response(to request: Request, maxAge: Int) -> Response {
        let cacheControl = "public, max-age=\(maxAge)"
        if let match = request.headers.fieldValue(.ifNoneMatch),
           match == "*" || match.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == etag }) {
            return Response(status: .notModified, headers: [.eTag: etag, .cacheControl: cacheControl])
        }
        return JSONResponse.make(body: body, cacheControl: cacheControl, etag: etag)
    }
}
