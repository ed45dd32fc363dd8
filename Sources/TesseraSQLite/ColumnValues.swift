import Foundation
import GRDB

/// The columns of one fetched row, read by position: a GRDB `Row`, or a ``DirectStatement``
/// stepped onto a row. The mapping of a user or a family from its columns is written once,
/// against this.
protocol ColumnValues {
    func isNull(at index: Int) -> Bool
    /// A TEXT column (NULL reads as the empty string; check ``isNull(at:)`` first).
    func text(at index: Int) -> String
    /// A REAL column (NULL reads as 0; check ``isNull(at:)`` first).
    func double(at index: Int) -> Double
    /// An INTEGER 0/1 column.
    func bool(at index: Int) -> Bool
    /// An INTEGER column (NULL reads as 0).
    func int64(at index: Int) -> Int64
}

extension ColumnValues {
    /// A nullable TEXT column.
    func optionalText(at index: Int) -> String? {
        isNull(at: index) ? nil : text(at: index)
    }

    /// A nullable REAL column.
    func optionalDouble(at index: Int) -> Double? {
        isNull(at: index) ? nil : double(at: index)
    }

    /// A time column (seconds since the epoch, REAL).
    func date(at index: Int) -> Date {
        Date(timeIntervalSince1970: double(at: index))
    }

    /// A nullable time column.
    func optionalDate(at index: Int) -> Date? {
        optionalDouble(at: index).map(Date.init(timeIntervalSince1970:))
    }
}

extension Row: ColumnValues {
    func isNull(at index: Int) -> Bool { hasNull(atIndex: index) }
    func text(at index: Int) -> String { self[index] as String? ?? "" }
    func double(at index: Int) -> Double { self[index] as Double? ?? 0 }
    func bool(at index: Int) -> Bool { self[index] as Bool? ?? false }
    func int64(at index: Int) -> Int64 { self[index] as Int64? ?? 0 }
}
