import Foundation

/// A small line chart written as SVG: log₂ x axis (concurrency), linear y axis, one polyline per series, a legend.
public struct SVGChart: Sendable {
    public struct Series: Sendable {
        public var name: String
        public var color: String
        public var dashed: Bool
        public var points: [(x: Double, y: Double)]

        public init(name: String, color: String, dashed: Bool = false, points: [(x: Double, y: Double)]) {
            self.name = name
            self.color = color
            self.dashed = dashed
            self.points = points
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    public var width = 760.0
    public var height = 440.0

    public init(title: String, xLabel: String, yLabel: String, series: [Series]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
    }

    /// The SVG document.
    public var svg: String {
        let left = 70.0
        let right = 190.0
        let top = 50.0
        let bottom = 60.0
        let plotWidth = width - left - right
        let plotHeight = height - top - bottom
        let xs = series.flatMap { $0.points.map(\.x) }.filter { $0 > 0 }
        let xMin = log2(xs.min() ?? 1)
        let xMax = max(log2(xs.max() ?? 2), xMin + 1)
        let yMax = Self.niceCeiling(series.flatMap { $0.points.map(\.y) }.max() ?? 1)
        func px(_ x: Double) -> Double { left + (log2(max(x, 1e-9)) - xMin) / (xMax - xMin) * plotWidth }
        func py(_ y: Double) -> Double { top + plotHeight - y / yMax * plotHeight }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }

        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(f(width / 2))" y="24" text-anchor="middle" font-size="15" font-weight="bold">\(Self.escape(title))</text>

            """
        for step in 0...5 {
            let y = yMax * Double(step) / 5
            out += "<line x1=\"\(f(left))\" y1=\"\(f(py(y)))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(py(y)))\" stroke=\"#ddd\"/>\n"
            out += "<text x=\"\(f(left - 8))\" y=\"\(f(py(y) + 4))\" text-anchor=\"end\">\(Self.label(y))</text>\n"
        }
        for x in Set(xs).sorted() {
            out += "<line x1=\"\(f(px(x)))\" y1=\"\(f(top))\" x2=\"\(f(px(x)))\" y2=\"\(f(top + plotHeight))\" stroke=\"#eee\"/>\n"
            out += "<text x=\"\(f(px(x)))\" y=\"\(f(top + plotHeight + 18))\" text-anchor=\"middle\">\(Self.label(x))</text>\n"
        }
        out += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotWidth))\" height=\"\(f(plotHeight))\" fill=\"none\" stroke=\"#333\"/>\n"
        out += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(height - 18))\" text-anchor=\"middle\">\(Self.escape(xLabel))</text>\n"
        out += "<text transform=\"translate(18 \(f(top + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\">\(Self.escape(yLabel))</text>\n"
        for (index, line) in series.enumerated() {
            let points = line.points.sorted { $0.x < $1.x }.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
            let dash = line.dashed ? " stroke-dasharray=\"6 4\"" : ""
            out += "<polyline points=\"\(points)\" fill=\"none\" stroke=\"\(line.color)\" stroke-width=\"2\"\(dash)/>\n"
            for point in line.points {
                out += "<circle cx=\"\(f(px(point.x)))\" cy=\"\(f(py(point.y)))\" r=\"3\" fill=\"\(line.color)\"/>\n"
            }
            let legendY = top + 10 + Double(index) * 20
            out +=
                "<line x1=\"\(f(width - right + 16))\" y1=\"\(f(legendY))\" x2=\"\(f(width - right + 40))\" y2=\"\(f(legendY))\" stroke=\"\(line.color)\" stroke-width=\"2\"\(dash)/>\n"
            out += "<text x=\"\(f(width - right + 46))\" y=\"\(f(legendY + 4))\">\(Self.escape(line.name))</text>\n"
        }
        return out + "</svg>\n"
    }

    static func niceCeiling(_ value: Double) -> Double {
        guard value > 0 else { return 1 }
        let magnitude = pow(10, floor(log10(value)))
        for step in [1.0, 2.0, 2.5, 5.0, 10.0] where step * magnitude >= value { return step * magnitude }
        return 10 * magnitude
    }

    static func label(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: value < 10 ? "%.1f" : "%.0f", value)
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
