/// Go's duration syntax ("720h0m0s", "1h30m", "90s", "500ms"), as metav1.Duration and Velero's annotations write
/// it.
public enum GoDuration {
    /// The longest duration Go represents (`math.MaxInt64` nanoseconds, about 292 years), in seconds. Go's
    /// `time.ParseDuration` refuses anything longer, and so does `seconds(_:)`: a spec field or annotation cannot hand
    /// a caller a value that traps when it becomes whole milliseconds or nanoseconds.
    public static let maximumSeconds = 9_223_372_036.854_775_807

    /// Seconds, or nil when the text is not a Go duration or is longer than Go allows (`maximumSeconds`).
    public static func seconds(_ text: String) -> Double? {
        var rest = Substring(text)
        var negative = false
        if rest.first == "-" || rest.first == "+" {
            negative = rest.first == "-"
            rest = rest.dropFirst()
        }
        if rest == "0" { return 0 }
        guard !rest.isEmpty else { return nil }
        var total = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { !$0.isNumber && $0 != "." }
            rest = rest.dropFirst(unit.count)
            let scale: Double
            switch unit {
            case "h": scale = 3600
            case "m": scale = 60
            case "s": scale = 1
            case "ms": scale = 0.001
            case "us", "µs": scale = 0.000_001
            case "ns": scale = 0.000_000_001
            default: return nil
            }
            total += value * scale
            guard total <= maximumSeconds else { return nil }
        }
        return negative ? -total : total
    }
}
