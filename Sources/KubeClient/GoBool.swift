/// Go's `strconv.ParseBool`: the boolean spellings Velero's flags and its plugins' config values accept.
public enum GoBool {
    /// The value of `text`, or nil when Go would refuse it.
    public static func parse(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "true", "TRUE", "True": true
        case "0", "f", "F", "false", "FALSE", "False": false
        default: nil
        }
    }
}
