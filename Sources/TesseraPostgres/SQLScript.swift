import Foundation

/// Splits a migration script into its statements for the extended query protocol, which runs
/// one statement at a time: at each `;` that is outside a string (`'…'` with `''`), a quoted
/// identifier (`"…"`), a dollar-quoted body (`$$…$$`, `$tag$…$tag$`) and a comment (`-- …`,
/// nested `/* … */`). Empty statements are dropped.
enum SQLScript {
    static func statements(_ script: String) -> [String] {
        let characters = Array(script.unicodeScalars)
        var statements: [String] = []
        var current = String.UnicodeScalarView()
        var index = 0
        func flush() {
            let statement = String(current).trimmingCharacters(in: .whitespacesAndNewlines)
            if !statement.isEmpty { statements.append(statement) }
            current = String.UnicodeScalarView()
        }
        func copy(through end: Int) {
            let stop = min(end, characters.count)
            current.append(contentsOf: characters[index..<stop])
            index = stop
        }
        /// The index just past the first occurrence of `pattern` at or after `start`.
        func after(_ pattern: [Unicode.Scalar], from start: Int) -> Int {
            var position = start
            while position + pattern.count <= characters.count {
                if Array(characters[position..<(position + pattern.count)]) == pattern { return position + pattern.count }
                position += 1
            }
            return characters.count
        }
        while index < characters.count {
            let character = characters[index]
            let next: Unicode.Scalar? = index + 1 < characters.count ? characters[index + 1] : nil
            switch character {
            case ";":
                index += 1
                flush()
            case "'", "\"":
                // A doubled quote inside continues the string.
                var end = index + 1
                while end < characters.count {
                    if characters[end] == character {
                        if end + 1 < characters.count && characters[end + 1] == character { end += 2; continue }
                        break
                    }
                    end += 1
                }
                copy(through: end + 1)
            case "-" where next == "-":
                copy(through: after(["\n"], from: index))
            case "/" where next == "*":
                var depth = 0
                var end = index
                repeat {
                    if end + 1 < characters.count && characters[end] == "/" && characters[end + 1] == "*" {
                        depth += 1
                        end += 2
                    } else if end + 1 < characters.count && characters[end] == "*" && characters[end + 1] == "/" {
                        depth -= 1
                        end += 2
                    } else {
                        end += 1
                    }
                } while depth > 0 && end < characters.count
                copy(through: end)
            case "$":
                // A dollar quote: `$` + an optional identifier + `$` (not a `$1` parameter).
                var end = index + 1
                while end < characters.count, characters[end] == "_" || characters[end].properties.isAlphabetic
                    || (end > index + 1 && ("0"..."9").contains(characters[end])) {
                    end += 1
                }
                if end < characters.count && characters[end] == "$" {
                    let tag = Array(characters[index...end])
                    copy(through: after(tag, from: end + 1))
                } else {
                    copy(through: index + 1)
                }
            default:
                copy(through: index + 1)
            }
        }
        flush()
        return statements
    }
}
