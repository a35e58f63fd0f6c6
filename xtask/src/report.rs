//! The combined report of `cargo xtask reproduce-paper`: `<out>/report/index.md`, a self-contained `index.html` and
//! the merged `summary.json`, assembled from each paper's `galmass evaluate` folder.
//!
//! Each paper's report folder holds `report.md` (figures linked as `figures/<name>.png`), `summary.json`
//! (`{"records": [...]}`), `tables/` and `figures/`. The index inlines every `report.md` under a `## <paper>`
//! heading (its own headings demoted below it), with links into `figures/` and `tables/` rewritten to
//! `<paper>/figures/...` and those folders copied beside the index. `index.html` is the same Markdown rendered by
//! `pulldown-cmark` (tables on) with every local image embedded as a base64 data URI, so the one file can be mailed
//! or screenshotted (`scripts/screenshot_report.sh`). Every file is written atomically (temp file + rename).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use base64::Engine as _;
use pulldown_cmark::{html, CowStr, Event, Options, Parser, Tag};

use crate::json;

/// The folders of a paper's report that the index links into (and copies).
const LINKED_FOLDERS: &[&str] = &["figures/", "tables/"];

/// What the index says about the run.
pub struct RunInfo {
    /// The command line, as typed.
    pub command: String,
    /// Machine name.
    pub hostname: String,
    /// Logical CPUs available.
    pub nproc: usize,
    /// quick, medium or full.
    pub scale: String,
    /// When the run started (UTC).
    pub date: String,
    /// Wall time of the whole run, formatted.
    pub total: String,
}

/// One row of a timing table: a name, one cell per column, and a status.
pub struct TimingRow {
    /// Paper or suite.
    pub name: String,
    /// Formatted times ("12.3 s", "skipped", "failed after 2.0 s", "-").
    pub cells: Vec<String>,
    /// ok, failed at ..., not selected, ...
    pub status: String,
}

/// A paper as the index shows it.
pub struct PaperSection {
    /// Paper name.
    pub paper: String,
    /// Its finished report folder, or `None` (then `note` says why there is none).
    pub report_dir: Option<PathBuf>,
    /// Shown instead of the report when there is none.
    pub note: String,
}

/// Writes `<report_root>/index.md`, `index.html` and `summary.json`, copying each paper's figures and tables into
/// `<report_root>/<paper>/`. Returns the path of `index.html`, and the problems of paper reports that could not be
/// included (each paper's section then says so; the others are complete).
pub fn write_report(
    report_root: &Path,
    info: &RunInfo,
    synth: &[TimingRow],
    papers: &[TimingRow],
    sections: &[PaperSection],
) -> Result<(PathBuf, Vec<String>)> {
    std::fs::create_dir_all(report_root).with_context(|| format!("cannot create {}", report_root.display()))?;
    let mut md = String::new();
    let _ = writeln!(md, "# galmass: paper reproductions ({})\n", info.scale);
    let _ = writeln!(md, "- command: `{}`", info.command);
    let _ = writeln!(md, "- machine: {} ({} CPUs)", info.hostname, info.nproc);
    let _ = writeln!(md, "- scale: {}", info.scale);
    let _ = writeln!(md, "- date: {}", info.date);
    let _ = writeln!(md, "- total wall time: {}\n", info.total);
    md.push_str("## Timings\n\n");
    md.push_str(&timing_table(&["paper", "dataset", "train", "evaluate", "status"], papers));
    if !synth.is_empty() {
        md.push_str("\nSynthetic suites (`galmass synth --native`, then `galmass extract --all`):\n\n");
        md.push_str(&timing_table(&["suite", "synth", "extract", "status"], synth));
    }
    let mut records = Vec::new();
    let mut problems = Vec::new();
    for section in sections {
        let _ = writeln!(md, "\n## {}\n", section.paper);
        let Some(dir) = &section.report_dir else {
            let _ = writeln!(md, "*{}*", section.note);
            continue;
        };
        match paper_section(dir, &report_root.join(&section.paper), &section.paper) {
            Ok((paper_md, paper_records)) => {
                md.push_str(&paper_md);
                records.extend(paper_records);
            }
            Err(err) => {
                let _ = writeln!(md, "*The report in {} could not be included: {err:#}.*", dir.display());
                problems.push(format!("{}: {err:#}", section.paper));
            }
        }
    }
    write_atomic(&report_root.join("index.md"), md.as_bytes())?;
    let html = markdown_to_html(&md, report_root, &format!("galmass: paper reproductions ({})", info.scale));
    let index_html = report_root.join("index.html");
    write_atomic(&index_html, html.as_bytes())?;
    write_atomic(&report_root.join("summary.json"), merged_summary(&records).as_bytes())?;
    Ok((index_html, problems))
}

/// One paper's report folder `dir` prepared for the index: its `report.md` with headings demoted and links
/// rewritten, its figures and tables copied into `target`, and its summary records.
fn paper_section(dir: &Path, target: &Path, paper: &str) -> Result<(String, Vec<String>)> {
    let report_md = dir.join("report.md");
    let text = std::fs::read_to_string(&report_md).with_context(|| format!("cannot read {}", report_md.display()))?;
    let summary = dir.join("summary.json");
    let json_text = std::fs::read_to_string(&summary).with_context(|| format!("cannot read {}", summary.display()))?;
    let records = summary_records(&json_text, paper).with_context(|| format!("in {}", summary.display()))?;
    for folder in LINKED_FOLDERS {
        let folder = folder.trim_end_matches('/');
        copy_folder(&dir.join(folder), &target.join(folder))?;
    }
    let mut md = rewrite_relative_links(&demote_headings(&text, 3), paper);
    if !md.ends_with('\n') {
        md.push('\n');
    }
    Ok((md, records))
}

fn timing_table(header: &[&str], rows: &[TimingRow]) -> String {
    let mut out = format!("| {} |\n|{}\n", header.join(" | "), "---|".repeat(header.len()));
    for row in rows {
        let _ = writeln!(out, "| {} | {} | {} |", row.name, row.cells.join(" | "), row.status.replace('|', "\\|"));
    }
    out
}

/// The records of one paper's `summary.json` (`{"records": [...]}`) as raw JSON texts, each object record given a
/// `"paper"` member when it has none.
pub fn summary_records(text: &str, paper: &str) -> Result<Vec<String>> {
    let members = json::object_members(text)?;
    let raw = json::member(&members, "records").context("no `records` member")?;
    let mut records = Vec::new();
    for element in json::array_elements(raw).context("`records` is not an array")? {
        let record = match json::object_members(element) {
            Ok(m) if json::member(&m, "paper").is_none() => {
                let body = element.trim_start().strip_prefix('{').unwrap_or(element);
                let sep = if m.is_empty() { "" } else { ", " };
                format!("{{\"paper\": {}{sep}{body}", json::quote(paper))
            }
            _ => element.to_string(),
        };
        records.push(record);
    }
    Ok(records)
}

/// `{"records": [...]}` of all `records`.
pub fn merged_summary(records: &[String]) -> String {
    if records.is_empty() {
        return "{\"records\": []}\n".into();
    }
    format!("{{\"records\": [\n  {}\n]}}\n", records.join(",\n  "))
}

/// Fenced code blocks (``` and ~~~) are left alone by the line rewriters; this tells which lines are inside one.
fn code_fence_mask(md: &str) -> Vec<bool> {
    let mut fence: Option<(char, usize)> = None;
    md.lines()
        .map(|line| {
            let trimmed = line.trim_start();
            let indent = line.len() - trimmed.len();
            let marker = trimmed.chars().next().filter(|c| *c == '`' || *c == '~');
            let run = marker.map_or(0, |m| trimmed.chars().take_while(|c| *c == m).count());
            match (fence, marker) {
                (None, Some(m)) if indent < 4 && run >= 3 => {
                    fence = Some((m, run));
                    true
                }
                (Some((m, n)), Some(c)) if c == m && run >= n && trimmed[run..].trim().is_empty() => {
                    fence = None;
                    true
                }
                (Some(_), _) => true,
                (None, _) => false,
            }
        })
        .collect()
}

/// The level of an ATX heading line (`## Title`), if it is one.
fn heading_level(line: &str) -> Option<usize> {
    let trimmed = line.trim_start_matches(' ');
    if line.len() - trimmed.len() > 3 {
        return None;
    }
    let level = trimmed.chars().take_while(|c| *c == '#').count();
    let rest = &trimmed[level..];
    ((1..=6).contains(&level) && (rest.is_empty() || rest.starts_with([' ', '\t']))).then_some(level)
}

/// `md` with its ATX headings shifted so that the highest one has level `min_level` (levels capped at 6); code
/// blocks untouched. A document already at or below `min_level` is returned as is.
pub fn demote_headings(md: &str, min_level: usize) -> String {
    let mask = code_fence_mask(md);
    let top = md.lines().zip(&mask).filter(|(_, fenced)| !**fenced).filter_map(|(line, _)| heading_level(line)).min();
    let Some(shift) = top.map(|top| min_level.saturating_sub(top)).filter(|s| *s > 0) else {
        return md.to_string();
    };
    map_lines(md, &mask, |line| match heading_level(line) {
        Some(level) => {
            let trimmed = line.trim_start_matches(' ');
            let new_level = (level + shift).min(6);
            format!("{}{}", "#".repeat(new_level), &trimmed[level..])
        }
        None => line.to_string(),
    })
}

/// `md` with links and images into `figures/` and `tables/` (inline `](figures/x.png)`, `](./figures/...)`,
/// `](<figures/...>)`, reference definitions `[x]: figures/...`, and HTML `src="figures/..."` / `href=...`)
/// rewritten to `<paper>/figures/...`, so that a paper's report inlined in the index finds its copied files. Code
/// blocks are left alone.
pub fn rewrite_relative_links(md: &str, paper: &str) -> String {
    let mask = code_fence_mask(md);
    map_lines(md, &mask, |line| {
        let mut line = line.to_string();
        for opener in ["](", "](<", "]: ", "]: <", "src=\"", "href=\"", "src='", "href='"] {
            for folder in LINKED_FOLDERS {
                for dot in ["./", ""] {
                    let from = format!("{opener}{dot}{folder}");
                    if line.contains(&from) {
                        line = line.replace(&from, &format!("{opener}{paper}/{folder}"));
                    }
                }
            }
        }
        line
    })
}

/// Applies `f` to every line outside code blocks, keeping line endings.
fn map_lines(md: &str, mask: &[bool], f: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(md.len());
    for (i, line) in md.split_inclusive('\n').enumerate() {
        let (body, ending) = match line.strip_suffix("\r\n") {
            Some(b) => (b, "\r\n"),
            None => line.strip_suffix('\n').map_or((line, ""), |b| (b, "\n")),
        };
        if mask.get(i).copied().unwrap_or(false) {
            out.push_str(body);
        } else {
            out.push_str(&f(body));
        }
        out.push_str(ending);
    }
    out
}

const CSS: &str = "\
body { max-width: 84rem; margin: 2rem auto; padding: 0 1rem; font-family: system-ui, -apple-system, 'Segoe UI', \
sans-serif; line-height: 1.5; color: #1b1b1b; }
h1, h2, h3 { line-height: 1.25; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2rem; margin-top: 2.5rem; }
table { border-collapse: collapse; margin: 1rem 0; font-size: .85rem; display: block; overflow-x: auto; }
th, td { border: 1px solid #bbb; padding: .25rem .6rem; text-align: left; vertical-align: top; }
th { background: #f2f2f2; } tr:nth-child(even) td { background: #fafafa; }
img { max-width: 100%; height: auto; }
code { background: #f4f4f4; padding: 0 .2rem; border-radius: 3px; font-size: .9em; }
pre { background: #f4f4f4; padding: .6rem; overflow-x: auto; } pre code { padding: 0; }
";

/// A full HTML page of `md` (CommonMark + tables), local images (relative to `base`) embedded as data URIs.
pub fn markdown_to_html(md: &str, base: &Path, title: &str) -> String {
    let parser = Parser::new_ext(md, Options::ENABLE_TABLES).map(|event| match event {
        Event::Start(Tag::Image { link_type, dest_url, title, id }) => {
            let dest_url = embed_image(&dest_url, base).map(CowStr::from).unwrap_or(dest_url);
            Event::Start(Tag::Image { link_type, dest_url, title, id })
        }
        other => other,
    });
    let mut body = String::new();
    html::push_html(&mut body, parser);
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n\
         <style>\n{CSS}</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
        escape_html(title)
    )
}

/// File name endings of the images embedded in the HTML, and their MIME types.
const IMAGE_TYPES: &[(&str, &str)] = &[
    (".png", "image/png"),
    (".jpg", "image/jpeg"),
    (".jpeg", "image/jpeg"),
    (".gif", "image/gif"),
    (".svg", "image/svg+xml"),
    (".webp", "image/webp"),
];

/// A data URI of the local image `dest` (relative to `base`), or `None` for remote, data or missing images.
fn embed_image(dest: &str, base: &Path) -> Option<String> {
    if dest.starts_with("data:") || dest.contains("://") || dest.starts_with('/') {
        return None;
    }
    let path = dest.split(['#', '?']).next().unwrap_or(dest);
    let lower = path.to_ascii_lowercase();
    let mime = IMAGE_TYPES.iter().find(|(ext, _)| lower.ends_with(ext)).map(|(_, mime)| *mime)?;
    let bytes = std::fs::read(base.join(percent_decode(path))).ok()?;
    Some(format!("data:{mime};base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes)))
}

/// `%20`-style escapes of a URL path decoded (pulldown-cmark hands link targets over as written).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Copies the plain files of `from` (recursively) into `to`, each atomically; a missing `from` copies nothing.
fn copy_folder(from: &Path, to: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(from) else { return Ok(()) };
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", from.display()))?;
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            copy_folder(&path, &target)?;
        } else if path.is_file() {
            let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            write_atomic(&target, &bytes)?;
        }
    }
    Ok(())
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename, so that a reader never sees
/// half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    std::fs::write(&temp, bytes).with_context(|| format!("cannot write {}", temp.display()))?;
    std::fs::rename(&temp, path).with_context(|| format!("cannot rename {} to {}", temp.display(), path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_and_table_links_point_into_the_paper_folder() {
        let md = "# Report\n\n![loss](figures/loss.png) and ![x](./figures/x%20y.png)\n\
                  see [the table](tables/metrics.csv), [web](https://e.org/figures/a.png)\n\
                  ![a](<figures/a b.png>)\n[ref]: figures/ref.png\n<img src=\"figures/raw.png\">\n\
                  ```\n![kept](figures/code.png)\n```\n![after](figures/after.png)\n";
        let out = rewrite_relative_links(md, "chu2024");
        assert!(out.contains("![loss](chu2024/figures/loss.png)"));
        assert!(out.contains("![x](chu2024/figures/x%20y.png)"));
        assert!(out.contains("[the table](chu2024/tables/metrics.csv)"));
        assert!(out.contains("[web](https://e.org/figures/a.png)"));
        assert!(out.contains("![a](<chu2024/figures/a b.png>)"));
        assert!(out.contains("[ref]: chu2024/figures/ref.png"));
        assert!(out.contains("<img src=\"chu2024/figures/raw.png\">"));
        assert!(out.contains("![kept](figures/code.png)"), "code blocks stay as written");
        assert!(out.contains("![after](chu2024/figures/after.png)"), "the fence closes");
        assert_eq!(rewrite_relative_links(&out, "chu2024").matches("chu2024/chu2024").count(), 0);
    }

    #[test]
    fn line_endings_survive_rewriting() {
        assert_eq!(rewrite_relative_links("a\r\n![f](figures/f.png)", "p"), "a\r\n![f](p/figures/f.png)");
        assert_eq!(rewrite_relative_links("", "p"), "");
    }

    #[test]
    fn headings_are_demoted_below_the_paper_heading() {
        let md = "# Title\n\ntext #not\n## Part\n```\n# comment in code\n```\n####### seven\n#nospace\n";
        let out = demote_headings(md, 3);
        assert_eq!(out, "### Title\n\ntext #not\n#### Part\n```\n# comment in code\n```\n####### seven\n#nospace\n");
        assert_eq!(demote_headings("### a\n###### b\n", 3), "### a\n###### b\n");
        assert_eq!(demote_headings("## a\n##### b\n", 3), "### a\n###### b\n");
        assert_eq!(demote_headings("# a\n##### b\n", 3), "### a\n###### b\n", "capped at 6");
        assert_eq!(demote_headings("no headings\n", 3), "no headings\n");
    }

    #[test]
    fn summary_records_get_their_paper() {
        let text = r#"{"records": [{"metric": "rmse", "value": 0.1}, {"paper": "other", "v": 1}, {}, 3]}"#;
        let records = summary_records(text, "chu2024").unwrap();
        assert_eq!(
            records,
            vec![
                r#"{"paper": "chu2024", "metric": "rmse", "value": 0.1}"#,
                r#"{"paper": "other", "v": 1}"#,
                r#"{"paper": "chu2024"}"#,
                "3"
            ]
        );
        let merged = merged_summary(&records);
        let members = json::object_members(&merged).unwrap();
        assert_eq!(json::array_elements(json::member(&members, "records").unwrap()).unwrap().len(), 4);
        assert_eq!(merged_summary(&[]), "{\"records\": []}\n");
        assert!(summary_records(r#"{"rows": []}"#, "p").is_err());
        assert!(summary_records(r#"{"records": {}}"#, "p").is_err());
    }

    #[test]
    fn html_embeds_local_images_and_renders_tables() {
        let dir = std::env::temp_dir().join(format!("xtask-report-html-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("p/figures")).unwrap();
        std::fs::write(dir.join("p/figures/a b.png"), b"\x89PNG fake").unwrap();
        let md = "# T\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n![a](p/figures/a%20b.png) ![m](p/figures/missing.png) \
                  ![r](https://e.org/x.png)\n";
        let html = markdown_to_html(md, &dir, "T <&>");
        assert!(html.contains("<table>"));
        assert!(html.contains("<td>1</td>"));
        let encoded = base64::engine::general_purpose::STANDARD.encode(b"\x89PNG fake");
        assert!(html.contains(&format!("src=\"data:image/png;base64,{encoded}\"")));
        assert!(html.contains("src=\"p/figures/missing.png\""), "a missing image keeps its link");
        assert!(html.contains("src=\"https://e.org/x.png\""));
        assert!(html.contains("<title>T &lt;&amp;&gt;</title>"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_broken_paper_report_is_noted_and_the_rest_written() {
        let root = std::env::temp_dir().join(format!("xtask-report-broken-{}", std::process::id()));
        let (good, bad) = (root.join("good"), root.join("bad"));
        for dir in [&good, &bad] {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(dir.join("report.md"), "# r\n").unwrap();
        }
        std::fs::write(good.join("summary.json"), r#"{"records": [{"m": 1}]}"#).unwrap();
        std::fs::write(bad.join("summary.json"), r#"{"records": [{"m": 1}"#).unwrap();
        let info = RunInfo {
            command: "c".into(),
            hostname: "h".into(),
            nproc: 1,
            scale: "quick".into(),
            date: "d".into(),
            total: "t".into(),
        };
        let section = |paper: &str, dir: &Path| PaperSection {
            paper: paper.into(),
            report_dir: Some(dir.to_owned()),
            note: String::new(),
        };
        let sections = [section("bad", &bad), section("good", &good)];
        let (_, problems) = write_report(&root.join("report"), &info, &[], &[], &sections).unwrap();
        assert_eq!(problems.len(), 1);
        assert!(problems[0].starts_with("bad: in "), "{problems:?}");
        let md = std::fs::read_to_string(root.join("report/index.md")).unwrap();
        assert!(md.contains("could not be included"));
        assert!(md.contains("## good\n\n### r\n"));
        let summary = std::fs::read_to_string(root.join("report/summary.json")).unwrap();
        assert!(summary.contains(r#"{"paper": "good", "m": 1}"#) && !summary.contains("\"bad\""));
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn report_inlines_papers_and_merges_summaries() {
        let root = std::env::temp_dir().join(format!("xtask-report-{}", std::process::id()));
        let paper_dir = root.join("chu2024/quick/report");
        std::fs::create_dir_all(paper_dir.join("figures")).unwrap();
        std::fs::create_dir_all(paper_dir.join("tables")).unwrap();
        std::fs::write(paper_dir.join("figures/loss.png"), b"png").unwrap();
        std::fs::write(paper_dir.join("tables/m.csv"), b"a,b\n").unwrap();
        std::fs::write(paper_dir.join("report.md"), "# chu2024\n\n![loss](figures/loss.png)\n").unwrap();
        std::fs::write(paper_dir.join("summary.json"), r#"{"records": [{"m": 1}]}"#).unwrap();
        let info = RunInfo {
            command: "cargo xtask reproduce-paper --quick".into(),
            hostname: "host".into(),
            nproc: 2,
            scale: "quick".into(),
            date: "2026-01-02 03:04 UTC".into(),
            total: "1.0 s".into(),
        };
        let row = |name: &str, status: &str| TimingRow {
            name: name.into(),
            cells: vec!["1.0 s".into(), "2.0 s".into(), "-".into()],
            status: status.into(),
        };
        let sections = [
            PaperSection { paper: "chu2024".into(), report_dir: Some(paper_dir.clone()), note: String::new() },
            PaperSection { paper: "sarrato2025".into(), report_dir: None, note: "failed at train".into() },
        ];
        let report_root = root.join("report");
        let (html_path, problems) = write_report(
            &report_root,
            &info,
            &[],
            &[row("chu2024", "ok"), row("sarrato2025", "failed at train")],
            &sections,
        )
        .unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        let md = std::fs::read_to_string(report_root.join("index.md")).unwrap();
        assert!(md.contains("## chu2024\n\n### chu2024\n\n![loss](chu2024/figures/loss.png)"));
        assert!(md.contains("| chu2024 | 1.0 s | 2.0 s | - | ok |"));
        assert!(md.contains("*failed at train*"));
        assert!(report_root.join("chu2024/figures/loss.png").is_file());
        assert!(report_root.join("chu2024/tables/m.csv").is_file());
        let summary = std::fs::read_to_string(report_root.join("summary.json")).unwrap();
        assert!(summary.contains(r#"{"paper": "chu2024", "m": 1}"#));
        let html = std::fs::read_to_string(html_path).unwrap();
        assert!(html.contains("data:image/png;base64,"));
        assert!(!std::fs::read_dir(&report_root).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains(".tmp-")));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
