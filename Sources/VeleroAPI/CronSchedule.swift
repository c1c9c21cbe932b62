import Foundation

/// A Schedule's `spec.schedule`, with the standard cron semantics Velero uses: five fields (minute, hour,
/// day of month, month, day of week; `*`, `?`, lists, ranges, `/steps`, month and weekday names), or a descriptor:
/// `@yearly`/`@annually`, `@monthly`, `@weekly`, `@daily`/`@midnight`, `@hourly`, `@every <Go duration>`.
/// Times are UTC. When both day fields are restricted, a day matching either runs (cron's rule); when either is
/// `*`, both must match.
public struct CronSchedule: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case fields(
            minutes: Set<Int>, hours: Set<Int>, days: Set<Int>, months: Set<Int>, weekdays: Set<Int>,
            daysStarred: Bool, weekdaysStarred: Bool)
        case every(seconds: Int)
    }
    let kind: Kind

    public init(parsing text: String) throws(VeleroValidationError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("@every ") {
            let duration = String(trimmed.dropFirst(7)).trimmingCharacters(in: .whitespaces)
            guard let seconds = KubeDuration.seconds(duration), seconds >= 1 else {
                throw VeleroValidationError(
                    "schedule '\(text)': @every needs a duration of at least 1s, e.g. @every 6h")
            }
            kind = .every(seconds: Int(seconds))
            return
        }
        let descriptors = [
            "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
            "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
        ]
        let expression: String
        if trimmed.hasPrefix("@") {
            guard let expanded = descriptors[trimmed] else {
                throw VeleroValidationError("schedule '\(text)': unknown descriptor \(trimmed)")
            }
            expression = expanded
        } else {
            expression = trimmed
        }
        let fields = expression.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw VeleroValidationError(
                "schedule '\(text)': expected 5 fields (minute hour day-of-month month day-of-week), found \(fields.count)"
            )
        }
        let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        let weekdays = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
        func field(_ index: Int, _ name: String, _ range: ClosedRange<Int>, names: [String] = [], offset: Int = 0)
            throws(VeleroValidationError) -> (Set<Int>, starred: Bool)
        {
            try Self.parseField(fields[index], name: name, range: range, names: names, nameOffset: offset, text: text)
        }
        let (minutes, _) = try field(0, "minute", 0...59)
        let (hours, _) = try field(1, "hour", 0...23)
        let (days, daysStarred) = try field(2, "day of month", 1...31)
        let (month, _) = try field(3, "month", 1...12, names: months, offset: 1)
        var (weekday, weekdaysStarred) = try field(4, "day of week", 0...7, names: weekdays)
        if weekday.remove(7) != nil { weekday.insert(0) }
        kind = .fields(
            minutes: minutes, hours: hours, days: days, months: month, weekdays: weekday, daysStarred: daysStarred,
            weekdaysStarred: weekdaysStarred)
    }

    private static func parseField(
        _ field: String, name: String, range: ClosedRange<Int>, names: [String], nameOffset: Int, text: String
    ) throws(VeleroValidationError) -> (Set<Int>, starred: Bool) {
        func bad(_ reason: String) -> VeleroValidationError {
            VeleroValidationError("schedule '\(text)': \(name) field '\(field)' \(reason)")
        }
        func value(_ part: Substring) throws(VeleroValidationError) -> Int {
            if let number = Int(part) {
                guard range.contains(number) else {
                    throw bad("has \(number), outside \(range.lowerBound)-\(range.upperBound)")
                }
                return number
            }
            guard let index = names.firstIndex(of: part.lowercased()) else { throw bad("has '\(part)', not a number") }
            return index + nameOffset
        }
        var result = Set<Int>()
        var starred = false
        for item in field.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = item.split(separator: "/", omittingEmptySubsequences: false)
            guard (1...2).contains(pieces.count), !pieces[0].isEmpty else { throw bad("is malformed") }
            var step = 1
            if pieces.count == 2 {
                guard let parsed = Int(pieces[1]), parsed >= 1 else { throw bad("has step '\(pieces[1])'") }
                step = parsed
            }
            let lower: Int
            var upper: Int
            if pieces[0] == "*" || pieces[0] == "?" {
                (lower, upper) = (range.lowerBound, range.upperBound)
                if pieces.count == 1 { starred = true }
            } else {
                let bounds = pieces[0].split(separator: "-", omittingEmptySubsequences: false)
                guard (1...2).contains(bounds.count) else { throw bad("is malformed") }
                lower = try value(bounds[0])
                upper = bounds.count == 2 ? try value(bounds[1]) : (pieces.count == 2 ? range.upperBound : lower)
                guard lower <= upper else { throw bad("has a range that runs backwards") }
            }
            result.formUnion(stride(from: lower, through: upper, by: step))
        }
        return (result, starred)
    }

    /// The first run strictly after `date`.
    public func next(after date: Date) -> Date {
        switch kind {
        case .every(let seconds):
            return Date(timeIntervalSince1970: (date.timeIntervalSince1970 + Double(seconds)).rounded(.down))
        case .fields(let minutes, let hours, let days, let months, let weekdays, let daysStarred, let weekdaysStarred):
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            let start = (date.timeIntervalSince1970 / 60).rounded(.down) * 60 + 60
            var candidate = Date(timeIntervalSince1970: start)
            // Five years of minutes at most; a schedule such as Feb 30 never runs.
            let limit = date.addingTimeInterval(5 * 366 * 86400)
            while candidate < limit {
                let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .weekday], from: candidate)
                let month = parts.month!
                if !months.contains(month) {
                    candidate = calendar.date(
                        from: DateComponents(year: parts.year!, month: month + 1, day: 1, hour: 0, minute: 0))!
                    continue
                }
                let dayMatch = days.contains(parts.day!)
                let weekdayMatch = weekdays.contains(parts.weekday! - 1)
                let dayOK = daysStarred || weekdaysStarred ? dayMatch && weekdayMatch : dayMatch || weekdayMatch
                if !dayOK {
                    candidate = calendar.date(
                        from: DateComponents(year: parts.year!, month: month, day: parts.day! + 1, hour: 0, minute: 0))!
                    continue
                }
                if !hours.contains(parts.hour!) {
                    candidate = calendar.date(
                        from: DateComponents(
                            year: parts.year!, month: month, day: parts.day!, hour: parts.hour! + 1, minute: 0))!
                    continue
                }
                if !minutes.contains(parts.minute!) {
                    candidate = candidate.addingTimeInterval(60)
                    continue
                }
                return candidate
            }
            return .distantFuture
        }
    }
}
