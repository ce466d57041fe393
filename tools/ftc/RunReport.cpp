//===- RunReport.cpp - report.html at the end of a run --------------------===//
// SPDX-License-Identifier: Apache-2.0
#include "RunReport.h"

#include "ftc/runtime/AtomicFile.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

using namespace ftc;
namespace fs = std::filesystem;

namespace {

std::string escape(const std::string &s) {
  std::string out;
  for (char c : s) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

using Series = std::vector<std::pair<double, double>>;

/// Axis ticks at round numbers: a step of 1, 2 or 5 times a power of ten
/// that cuts [lo, hi] into at most `maxTicks` - 1 intervals, the range
/// widened to whole steps, and labels with just the decimals the step needs
/// (0.65, 0.70, 0.75 rather than 0.656594).
struct Ticks {
  double lo, hi, step;
  int decimals;
};
Ticks niceTicks(double lo, double hi, int maxTicks = 5) {
  double span = hi - lo;
  double raw = span / (maxTicks - 1);
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  Ticks t{std::floor(lo / step) * step, std::ceil(hi / step) * step, step, 0};
  t.decimals = std::max(0, int(-std::floor(std::log10(step) + 1e-9)));
  return t;
}

std::string fixed(double v, int decimals) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v == 0 ? 0.0 : v);
  return buf;
}

/// One line chart as inline SVG: x = step, y = value, with axis labels.
/// A vertical line at step `x`, labelled (an event such as overfitting).
struct Marker {
  double x;
  std::string label;
};

std::string chart(const std::string &title,
                  const std::map<std::string, Series> &lines,
                  const std::vector<Marker> &markers = {}) {
  constexpr double W = 540, H = 220, L = 76, R = 12, T = 24, B = 32;
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (auto &[name, pts] : lines)
    for (auto [x, y] : pts) {
      if (!std::isfinite(y))
        continue;
      x0 = std::min(x0, x);
      x1 = std::max(x1, x);
      y0 = std::min(y0, y);
      y1 = std::max(y1, y);
    }
  std::ostringstream os;
  os << "<figure><svg class=\"chart\" viewBox=\"0 0 " << W << " " << H
     << "\" width=\"" << W << "\" height=\"" << H
     << "\" role=\"img\" aria-label=\"" << escape(title) << "\">"
     << "<text x=\"" << L << "\" y=\"16\" class=\"title\">" << escape(title)
     << "</text>";
  if (!std::isfinite(x0)) {
    os << "<text x=\"" << L << "\" y=\"" << H / 2 << "\">no data</text></svg>"
       << "</figure>";
    return os.str();
  }
  if (x1 == x0)
    x1 = x0 + 1;
  if (y1 == y0)
    y1 = y0 + std::max(1e-6, std::fabs(y0) * 0.1);
  Ticks yt = niceTicks(y0, y1), xt = niceTicks(x0, x1);
  y0 = yt.lo;
  y1 = yt.hi;
  xt.step = std::max(1.0, xt.step); // steps are integers
  auto px = [&](double x) { return L + (x - x0) / (x1 - x0) * (W - L - R); };
  auto py = [&](double y) {
    return H - B - (y - y0) / (y1 - y0) * (H - T - B);
  };
  os << "<line x1=\"" << L << "\" y1=\"" << H - B << "\" x2=\"" << W - R
     << "\" y2=\"" << H - B << "\" class=\"axis\"/>"
     << "<line x1=\"" << L << "\" y1=\"" << T << "\" x2=\"" << L << "\" y2=\""
     << H - B << "\" class=\"axis\"/>";
  for (double y = yt.lo; y <= yt.hi + yt.step / 2; y += yt.step)
    os << "<text x=\"" << L - 4 << "\" y=\"" << py(y) + 4
       << "\" class=\"tick\" text-anchor=\"end\">" << fixed(y, yt.decimals)
       << "</text>";
  for (double x = std::ceil(x0 / xt.step) * xt.step; x <= x1 + 1e-9;
       x += xt.step)
    os << "<text x=\"" << px(x) << "\" y=\"" << H - B + 16
       << "\" class=\"tick\" text-anchor=\"middle\">" << fixed(x, 0)
       << "</text>";
  static const char *colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                                 "#ff7f0e"};
  size_t i = 0;
  for (auto &[name, pts] : lines) {
    const char *color = colors[i % 5];
    os << "<polyline fill=\"none\" stroke=\"" << color
       << "\" stroke-width=\"1.5\" points=\"";
    for (auto [x, y] : pts)
      if (std::isfinite(y))
        os << num(px(x)) << "," << num(py(y)) << " ";
    os << "\"><title>" << escape(name) << "</title></polyline>";
    os << "<text x=\"" << W - R - 4 << "\" y=\"" << T + 14 * (i + 1)
       << "\" text-anchor=\"end\" fill=\"" << color << "\">" << escape(name)
       << "</text>";
    ++i;
  }
  for (const Marker &m : markers) {
    if (m.x < x0 || m.x > x1)
      continue;
    os << "<line x1=\"" << num(px(m.x)) << "\" y1=\"" << T << "\" x2=\""
       << num(px(m.x)) << "\" y2=\"" << H - B
       << "\" class=\"marker\"/><text x=\"" << num(px(m.x) + 3) << "\" y=\""
       << T + 10 << "\" class=\"marker-label\">" << escape(m.label)
       << "</text>";
  }
  os << "<text x=\"" << (W + L) / 2 << "\" y=\"" << H - 4
     << "\" class=\"tick\" text-anchor=\"middle\">step</text></svg></figure>";
  return os.str();
}

} // namespace

void tool::writeRunReport(const std::string &outDir, const plan::Plan &plan,
                          const std::string &memoryPlanText,
                          const std::string &dataReportText,
                          const std::vector<std::string> &classNames) {
  std::vector<nlohmann::json> events;
  std::ifstream in(fs::path(outDir) / "metrics.jsonl");
  for (std::string line; std::getline(in, line);) {
    nlohmann::json e = nlohmann::json::parse(line, nullptr, false);
    if (e.is_object())
      events.push_back(std::move(e));
  }

  Series trainLoss, throughput;
  std::map<std::string, Series> evalMetrics, trainSampleMetrics;
  std::vector<Marker> markers;
  const nlohmann::json *overfitting = nullptr;
  const nlohmann::json *end = nullptr;
  double estimated = 0;
  for (const nlohmann::json &e : events) {
    std::string kind = e.value("event", "");
    double step = e.value("step", 0.0);
    if (kind == "train") {
      trainLoss.push_back({step, e.value("loss", NAN)});
      throughput.push_back({step, e.value("examples_per_s", NAN)});
    } else if (kind == "eval" && e.contains("metrics")) {
      for (auto &[k, v] : e["metrics"].items())
        if (v.is_number())
          evalMetrics[k].push_back({step, v.get<double>()});
      if (e.contains("train_metrics"))
        for (auto &[k, v] : e["train_metrics"].items())
          if (v.is_number())
            trainSampleMetrics[k].push_back({step, v.get<double>()});
    } else if (kind == "start") {
      estimated = e.value("estimated_seconds", 0.0);
    } else if (kind == "resume") {
      estimated = 0; // this process ran only the rest: no fair comparison
    } else if (kind == "overfitting") {
      overfitting = &e;
      markers.push_back({step, "overfitting"});
    } else if (kind == "end") {
      end = &e;
    }
  }

  std::ostringstream html;
  html << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
       << "<title>ftc run report</title><style>"
       << "body{font-family:system-ui,sans-serif;margin:2em;max-width:72em;"
          "color:#222}"
       << "table{border-collapse:collapse;font-size:.9em}"
          "td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}"
          "td:first-child,th:first-child{text-align:left}"
       << ".frozen{color:#888}.chart text{font-size:11px}"
          ".chart .title{font-weight:bold}.axis{stroke:#444}"
          ".marker{stroke:#d62728;stroke-dasharray:4 3}"
          ".marker-label{fill:#d62728}.warning{color:#b00}"
       << "figure{display:inline-block;margin:0 1em 1em 0}"
          "pre{background:#f6f6f6;padding:1em;overflow:auto}"
       << "</style></head><body>\n<h1>ftc run report</h1>\n";

  // Summary.
  html << "<h2>Summary</h2><table>";
  auto row = [&](const std::string &k, const std::string &v) {
    html << "<tr><th>" << escape(k) << "</th><td>" << escape(v) << "</td></tr>";
  };
  row("output directory", outDir);
  row("batch size", std::to_string(plan.batchSize));
  row("optimizer", plan.optimizer.empty() ? "none" : plan.optimizer);
  if (end) {
    row("steps", num(end->value("step", 0.0)));
    row("epochs", num(end->value("epoch", 0.0)));
    double actual = end->value("train_seconds", 0.0);
    row("training time (s)", num(actual));
    if (estimated > 0)
      row("estimated before the run (s)",
          num(estimated) + " (actual / estimate " +
              fixed(actual / estimated, 2) + ")");
    if (end->contains("metrics"))
      for (auto &[k, v] : (*end)["metrics"].items())
        if (v.is_number())
          row("final eval " + k, num(v.get<double>()));
  }
  if (!throughput.empty()) {
    std::vector<double> rates;
    for (auto [s, r] : throughput)
      if (std::isfinite(r))
        rates.push_back(r);
    if (!rates.empty()) {
      std::nth_element(rates.begin(), rates.begin() + rates.size() / 2,
                       rates.end());
      row("median examples/s", num(rates[rates.size() / 2]));
    }
  }
  html << "</table>\n";

  // Curves.
  html << "<h2>Training</h2>" << chart("train loss", {{"loss", trainLoss}})
       << chart("examples per second", {{"examples/s", throughput}});
  if (!evalMetrics.empty()) {
    html << "<h2>Evaluation</h2>";
    if (overfitting) {
      const nlohmann::json &lowest = (*overfitting)["lowest_eval_loss"];
      html << "<p class=\"warning\">Overfitting from step "
           << num(overfitting->value("since_step", 0.0))
           << ": eval loss rose for " << num(overfitting->value("evals", 0.0))
           << " evaluations while the training sample's loss fell. The lowest "
           << "eval loss (" << num(lowest.value("value", 0.0))
           << ") was at step " << num(lowest.value("step", 0.0)) << ".";
      if (!overfitting->value("early_stopping", false))
        html << " Early stopping (eval.patience) was off.";
      html << "</p>";
    }
    if (!trainSampleMetrics.empty())
      html << "<p>\"train\" is a fixed sample of the training split as large "
              "as the eval split, evaluated the same way at the same steps "
              "(eval.train_metrics).</p>";
    for (auto &[k, pts] : evalMetrics) {
      std::map<std::string, Series> lines{{"eval", pts}};
      if (trainSampleMetrics.count(k))
        lines["train"] = trainSampleMetrics[k];
      html << chart(k, lines, markers);
    }
  }
  if (end && end->contains("confusion_matrix")) {
    html << "<h3>Confusion matrix (rows: true class)</h3><table>";
    const nlohmann::json &cm = (*end)["confusion_matrix"];
    auto className = [&](size_t c) {
      return c < classNames.size() && !classNames[c].empty()
                 ? escape(classNames[c])
                 : std::to_string(c);
    };
    html << "<tr><th></th>";
    for (size_t c = 0; c < cm.size(); ++c)
      html << "<th>" << className(c) << "</th>";
    html << "</tr>";
    for (size_t r = 0; r < cm.size(); ++r) {
      html << "<tr><th>" << className(r) << "</th>";
      for (const nlohmann::json &v : cm[r])
        html << "<td>" << escape(v.dump()) << "</td>";
      html << "</tr>";
    }
    html << "</table>";
  }

  // Trainable set: what the freeze policy compiled to.
  std::map<std::string, int64_t> stateBytes;
  for (const plan::Buffer &b : plan.buffers)
    if (b.kind == plan::BufferKind::OptState)
      for (const plan::ParamInfo &p : plan.params) {
        const std::string &name = plan.buffers[p.buffer].name;
        if (b.name.rfind(name + ".", 0) == 0)
          stateBytes[name] += b.bytes();
      }
  int64_t total = 0, trainable = 0;
  html << "<h2>Trainable set</h2><table><tr><th>parameter</th><th>shape</th>"
       << "<th>elements</th><th>status</th><th>optimizer bytes</th></tr>";
  int64_t statElements = 0;
  for (const plan::ParamInfo &p : plan.params) {
    const plan::Buffer &b = plan.buffers[p.buffer];
    if (p.runningStat) { // state, not a parameter: counted apart
      statElements += b.numElements();
      continue;
    }
    std::string shape;
    for (size_t i = 0; i < b.shape.size(); ++i)
      shape += (i ? "×" : "") + std::to_string(b.shape[i]);
    total += b.numElements();
    trainable += p.trainable ? b.numElements() : 0;
    html << "<tr" << (p.trainable ? "" : " class=\"frozen\"") << "><td>"
         << escape(b.name) << "</td><td>" << shape << "</td><td>"
         << b.numElements() << "</td><td>"
         << (p.trainable ? "trainable" : "frozen") << "</td><td>"
         << stateBytes[b.name] << "</td></tr>";
  }
  html << "</table><p>" << total << " parameters, " << trainable
       << " trainable, " << total - trainable << " frozen";
  if (statElements)
    html << "; " << statElements << " running-statistic elements (never "
         << "trained)";
  html << ".</p>\n";

  html << "<h2>Data</h2><pre>" << escape(dataReportText) << "</pre>\n"
       << "<h2>Memory plan</h2><pre>" << escape(memoryPlanText) << "</pre>\n"
       << "<h2>Resolved spec</h2><pre>" << escape(plan.resolvedSpec)
       << "</pre>\n</body></html>\n";
  rt::writeFileAtomic((fs::path(outDir) / "report.html").string(), html.str());
}
