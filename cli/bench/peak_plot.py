"""`hocba bench peak --plot`: stage counts, stage throughput and backlogs over time, so a backing-up stage shows."""

from __future__ import annotations

from pathlib import Path

from cli.bench.peak_sampler import STAGES, Sample

SMOOTH_S = 5.0  # throughput over a sliding window, or one-second samples make a comb


def draw(samples: list[Sample], origin: float, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = [s.t - origin for s in samples]

    def rate(series: list[int]) -> list[float]:
        out = []
        for i, now in enumerate(t):
            j = i
            while j > 0 and now - t[j - 1] <= SMOOTH_S:
                j -= 1
            out.append((series[i] - series[j]) / (now - t[j]) if now > t[j] else 0.0)
        return out

    fig, (counts, rates, backlogs) = plt.subplots(3, 1, figsize=(11, 10), sharex=True)
    for key, label in STAGES:
        series = [s.totals.get(key, 0) for s in samples]
        counts.plot(t, series, label=label)
        rates.plot(t, rate(series), label=label)
    counts.set_ylabel("records (cumulative)")
    counts.legend(loc="upper left", fontsize="small")
    rates.set_ylabel(f"records/s ({SMOOTH_S:.0f} s window)")
    # A record is "signed" only after its last person; the signatures themselves show the signing stage moving.
    signatures = rates.twinx()
    signatures.plot(
        t,
        rate([s.totals.get("signatures", 0) for s in samples]),
        color="black",
        linestyle=":",
        label="personal signatures/s (right)",
    )
    signatures.set_ylabel("personal signatures/s")
    lines = rates.get_legend_handles_labels()
    extra = signatures.get_legend_handles_labels()
    rates.legend(lines[0] + extra[0], lines[1] + extra[1], loc="upper left", fontsize="small")
    names = sorted({k for s in samples for k in s.backlogs})
    for name in names:
        series = [s.backlogs.get(name, 0) for s in samples]
        if any(series):
            backlogs.plot(t, series, label=name, linestyle="--" if name.startswith("outbox") else "-")
    backlogs.set_ylabel("waiting (messages / records / rows)")
    backlogs.set_xlabel("seconds since the first term lock (negative: marks being entered)")
    backlogs.legend(loc="upper left", fontsize="small", ncol=2)
    for axis in (counts, rates, backlogs):
        axis.grid(alpha=0.3)
        axis.axvline(0, color="grey", linewidth=0.8)
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
