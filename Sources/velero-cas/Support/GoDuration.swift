/// Durations as Velero's flags take them (Go syntax): "720h", "1h30m", "90s", "0" (never).
enum GoDuration {
    /// Seconds, or nil for "0" (no expiry).
    static func parse(_ text: String) throws(DurationError) -> Int? {
        if text == "0" || text == "0s" { return nil }
        var total = 0.0
        var number = ""
        var sawUnit = false
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character.isNumber || character == "." {
                number.append(character)
                index = text.index(after: index)
                continue
            }
            var unit = String(character)
            let next = text.index(after: index)
            if character == "m" && next < text.endIndex && text[next] == "s" { unit = "ms" }
            guard let value = Double(number) else { throw DurationError(text: text) }
            let scale: Double =
                switch unit {
                case "h": 3600
                case "m": 60
                case "s": 1
                case "ms": 0.001
                default: throw DurationError(text: text)
                }
            total += value * scale
            number = ""
            sawUnit = true
            index = text.index(index, offsetBy: unit.count)
        }
        guard sawUnit, number.isEmpty else { throw DurationError(text: text) }
        guard total >= 1, total <= 100 * 365 * 86400 else { throw DurationError(text: text, outOfRange: true) }
        return Int(total)
    }

    struct DurationError: Error, CustomStringConvertible {
        var text: String
        var outOfRange = false
        var description: String {
            outOfRange
                ? "--ttl '\(text)' is out of range: use at least 1s and at most 100 years, or 0 for no expiry"
                : "--ttl '\(text)' is not a duration; use Go syntax such as 720h, 36h30m or 90s, or 0 for no expiry"
        }
    }
}
