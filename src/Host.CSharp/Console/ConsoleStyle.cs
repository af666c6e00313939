namespace CohortSync.Host.OperatorConsole;

/// <summary>The console's one stylesheet. Badge colours pass WCAG AA against their text, and every badge also says its meaning in words.</summary>
static class ConsoleStyle
{
    public const string Css = """
        :root { color-scheme: light; --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --bg: #fff; --accent: #0550ae; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
        a { color: var(--accent); }
        a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible { outline: 3px solid #0969da; outline-offset: 2px; }
        .skip { position: absolute; left: -999px; }
        .skip:focus { left: 8px; top: 8px; background: #fff; padding: 4px 8px; z-index: 1; }
        header { display: flex; flex-wrap: wrap; justify-content: space-between; gap: 8px; padding: 10px 16px; border-bottom: 1px solid var(--line); background: #f6f8fa; }
        nav { display: flex; flex-wrap: wrap; gap: 14px; align-items: baseline; }
        nav .brand { font-weight: 700; color: var(--fg); text-decoration: none; }
        .tools { margin: 0; display: flex; gap: 14px; }
        main { padding: 12px 16px 40px; max-width: 1280px; }
        h1 { font-size: 1.4rem; margin: 6px 0 12px; }
        h2 { font-size: 1.1rem; margin: 24px 0 8px; }
        .muted { color: var(--muted); }
        .nowrap { white-space: nowrap; }
        .scroll { overflow-x: auto; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { font-size: .85rem; color: var(--muted); white-space: nowrap; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        code, .id { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .9em; overflow-wrap: anywhere; }
        .badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: .85rem; font-weight: 600; white-space: nowrap; border: 1px solid; }
        .health-healthy, .state-committed, .destination-enabled { background: #dafbe1; color: #0f5323; border-color: #4ac26b; }
        .health-late, .state-open, .state-sealed { background: #fff8c5; color: #6b4500; border-color: #d4a72c; }
        .health-full-copy-ahead, .health-pausing, .destination-failing, .destination-gone { background: #ffebe9; color: #8a0b12; border-color: #ff8182; }
        .health-waiting, .state-superseded, .state-other, .destination-disabled { background: #eaeef2; color: #32383f; border-color: #afb8c1; }
        form.filters { display: flex; flex-wrap: wrap; gap: 10px; align-items: end; margin-bottom: 12px; }
        label { display: flex; flex-direction: column; font-size: .85rem; color: var(--muted); gap: 2px; }
        input, select, button { font: inherit; padding: 5px 8px; border: 1px solid #8c959f; border-radius: 6px; background: #fff; color: var(--fg); }
        button { background: #0969da; color: #fff; border-color: #0969da; cursor: pointer; }
        progress { width: 90px; vertical-align: middle; }
        .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap: 10px; margin-bottom: 8px; }
        .card { border: 1px solid var(--line); border-radius: 8px; padding: 8px 12px; }
        a.card { color: var(--fg); text-decoration: none; }
        a.card:hover { border-color: var(--accent); }
        .card b { display: block; font-size: 1.3rem; font-variant-numeric: tabular-nums; }
        .legend { font-size: .85rem; color: var(--muted); margin: 2px 0 0; }
        svg.chart { width: 100%; max-width: 760px; height: auto; display: block; }
        dl.profile { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0; }
        dl.profile dt { color: var(--muted); }
        dl.profile dd { margin: 0; overflow-wrap: anywhere; }
        svg.timeline rect.tl-committed { fill: #1a7f37; }
        svg.timeline rect.tl-open, svg.timeline rect.tl-sealed { fill: #9a6700; }
        svg.timeline rect.tl-superseded, svg.timeline rect.tl-other { fill: #6e7781; }
        .timeline-text { font-size: .9rem; margin: 4px 0 8px; }
        fieldset { border: 1px solid var(--line); border-radius: 8px; margin: 8px 0; min-width: 0; display: flex; flex-direction: column; gap: 8px; }
        label.choice { display: block; color: var(--fg); font-size: 1rem; }
        label.choice input { margin: 0 6px 0 0; }
        .notice { border: 1px dashed #8c959f; border-radius: 8px; padding: 10px 14px; background: #f6f8fa; }
        .error { color: #8a0b12; font-weight: 600; }
        @media (max-width: 640px) {
          main { padding: 8px; }
          th, td { padding: 5px 4px; font-size: .9rem; }
          .wide { display: none; }
        }
        """;
}
