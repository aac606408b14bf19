import Foundation

/// A bar-and-line chart as SVG, written without any package: one bar per category on the left axis and a line
/// of counts on the right axis, with axis titles, readable at 800×400. Only numbers and the labels given go into
/// it, each escaped as XML text.
public struct SVGBarLineChart: Sendable {
    /// The categories, left to right (period labels).
    public var labels: [String]
    /// The bar heights, exact (amounts); negative values are drawn as zero.
    public var bars: [Decimal]
    /// The bar values as they should be read (`42.00`), for the bars' tooltips.
    public var barTexts: [String]
    /// The line's values (counts), on the right axis.
    public var line: [Int]
    public var title: String
    public var barAxisTitle: String
    public var lineAxisTitle: String
    /// The largest bar value as it should be read, for the left axis.
    public var barMaximumText: String

    /// A chart of `labels.count` categories; `bars`, `barTexts` and `line` have one value per label.
    public init(
        labels: [String], bars: [Decimal], barTexts: [String], line: [Int], title: String, barAxisTitle: String,
        lineAxisTitle: String, barMaximumText: String
    ) {
        self.labels = labels
        self.bars = bars
        self.barTexts = barTexts
        self.line = line
        self.title = title
        self.barAxisTitle = barAxisTitle
        self.lineAxisTitle = lineAxisTitle
        self.barMaximumText = barMaximumText
    }

    static let width = 800
    static let height = 400
    static let left = 90
    static let right = 70
    static let top = 40
    static let bottom = 70

    /// The chart as a standalone SVG document.
    public func render() -> String {
        let plotWidth = Self.width - Self.left - Self.right
        let plotHeight = Self.height - Self.top - Self.bottom
        let count = max(labels.count, 1)
        let slot = Double(plotWidth) / Double(count)
        let maximum = bars.max().map { $0 > 0 ? $0 : 1 } ?? 1
        let lineMaximum = max(line.max() ?? 0, 1)
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Self.width)" height="\(Self.height)" \
            viewBox="0 0 \(Self.width) \(Self.height)" font-family="sans-serif" font-size="12">
            <rect x="0" y="0" width="\(Self.width)" height="\(Self.height)" fill="#ffffff"/>
            <text x="\(Self.width / 2)" y="22" text-anchor="middle" font-size="15">\(Self.escape(title))</text>

            """
        // Axes and their scales: 0 and the maximum on each.
        let baseY = Self.top + plotHeight
        svg += "<line x1=\"\(Self.left)\" y1=\"\(Self.top)\" x2=\"\(Self.left)\" y2=\"\(baseY)\" stroke=\"#333\"/>\n"
        svg += "<line x1=\"\(Self.left)\" y1=\"\(baseY)\" x2=\"\(Self.width - Self.right)\" y2=\"\(baseY)\" "
        svg += "stroke=\"#333\"/>\n"
        svg += "<line x1=\"\(Self.width - Self.right)\" y1=\"\(Self.top)\" x2=\"\(Self.width - Self.right)\" "
        svg += "y2=\"\(baseY)\" stroke=\"#333\"/>\n"
        svg += Self.text(Self.left - 6, baseY + 4, "0", anchor: "end")
        svg += Self.text(Self.left - 6, Self.top + 4, barMaximumText, anchor: "end")
        svg += Self.text(Self.width - Self.right + 6, baseY + 4, "0", anchor: "start")
        svg += Self.text(Self.width - Self.right + 6, Self.top + 4, String(lineMaximum), anchor: "start")
        svg += "<text x=\"18\" y=\"\(Self.top + plotHeight / 2)\" text-anchor=\"middle\" "
        svg += "transform=\"rotate(-90 18 \(Self.top + plotHeight / 2))\">\(Self.escape(barAxisTitle))</text>\n"
        let rightTitleX = Self.width - 14
        svg += "<text x=\"\(rightTitleX)\" y=\"\(Self.top + plotHeight / 2)\" text-anchor=\"middle\" "
        svg +=
            "transform=\"rotate(90 \(rightTitleX) \(Self.top + plotHeight / 2))\">\(Self.escape(lineAxisTitle))</text>\n"

        // Bars: heights in pixels from the exact amounts (geometry, not money).
        var points: [String] = []
        let labelEvery = max(1, Int((Double(count) / 16).rounded(.up)))
        for index in labels.indices {
            let value = index < bars.count ? max(bars[index], 0) : 0
            let fraction = NSDecimalNumber(decimal: value / maximum).doubleValue
            let barHeight = fraction * Double(plotHeight)
            let x = Double(Self.left) + slot * Double(index) + slot * 0.15
            let barText = index < barTexts.count ? barTexts[index] : ""
            svg += "<rect x=\"\(Self.number(x))\" y=\"\(Self.number(Double(baseY) - barHeight))\" "
            svg += "width=\"\(Self.number(slot * 0.7))\" height=\"\(Self.number(barHeight))\" fill=\"#4a7ebb\">"
            svg += "<title>\(Self.escape(labels[index])): \(Self.escape(barText))</title></rect>\n"
            let count = index < line.count ? line[index] : 0
            let centre = Double(Self.left) + slot * (Double(index) + 0.5)
            let y = Double(baseY) - Double(count) / Double(lineMaximum) * Double(plotHeight)
            points.append("\(Self.number(centre)),\(Self.number(y))")
            if index % labelEvery == 0 {
                svg += "<text x=\"\(Self.number(centre))\" y=\"\(baseY + 16)\" text-anchor=\"end\" "
                svg +=
                    "transform=\"rotate(-35 \(Self.number(centre)) \(baseY + 16))\">\(Self.escape(labels[index]))</text>\n"
            }
        }
        if !points.isEmpty {
            svg += "<polyline points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"#d9534f\" "
            svg += "stroke-width=\"2\"/>\n"
            for point in points {
                let xy = point.split(separator: ",")
                svg += "<circle cx=\"\(xy[0])\" cy=\"\(xy[1])\" r=\"3\" fill=\"#d9534f\"/>\n"
            }
        }
        // Legend.
        svg += "<rect x=\"\(Self.left)\" y=\"\(Self.height - 18)\" width=\"12\" height=\"12\" fill=\"#4a7ebb\"/>\n"
        svg += Self.text(Self.left + 16, Self.height - 8, barAxisTitle, anchor: "start")
        svg += "<line x1=\"\(Self.left + 300)\" y1=\"\(Self.height - 12)\" x2=\"\(Self.left + 320)\" "
        svg += "y2=\"\(Self.height - 12)\" stroke=\"#d9534f\" stroke-width=\"2\"/>\n"
        svg += Self.text(Self.left + 326, Self.height - 8, lineAxisTitle, anchor: "start")
        svg += "</svg>\n"
        return svg
    }

    static func text(_ x: Int, _ y: Int, _ content: String, anchor: String) -> String {
        "<text x=\"\(x)\" y=\"\(y)\" text-anchor=\"\(anchor)\">\(escape(content))</text>\n"
    }

    static func number(_ value: Double) -> String { String(format: "%.1f", value) }

    /// XML text: `&`, `<`, `>` and quotes escaped.
    public static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&apos;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
