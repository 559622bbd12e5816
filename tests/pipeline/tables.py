"""Small, ordinary tables of the kind users bring: mixed types, missing values, ids."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def houses(rows: int = 240, seed: int = 0) -> pd.DataFrame:
    """House prices: a regression target, numeric, categorical, boolean, date, free
    text and id columns, with missing values."""
    rng = np.random.default_rng(seed)
    area = rng.uniform(40, 200, rows).round(1)
    rooms = rng.integers(1, 6, rows)
    city = rng.choice(["Lyon", "Nantes", "Paris"], rows)
    garden = rng.random(rows) < 0.4
    premium = np.where(city == "Paris", 2500.0, 0.0)
    price = (
        3000 * area
        + 10000 * rooms
        + premium * area / 10
        + 15000 * garden
        + rng.normal(0, 20000, rows)
    ).round(0)
    frame = pd.DataFrame(
        {
            "listing_id": np.arange(1000, 1000 + rows),
            "area_m2": area,
            "rooms": rooms,
            "city": city,
            "has_garden": garden,
            "listed_on": pd.date_range("2024-01-01", periods=rows, freq="D").strftime("%Y-%m-%d"),
            "description": [
                f"Bright {r}-room flat in {c}, recently renovated, close to shops #{i}"
                for i, (r, c) in enumerate(zip(rooms, city, strict=True))
            ],
            "price": price,
        }
    )
    frame.loc[rng.choice(rows, 12, replace=False), "area_m2"] = np.nan
    frame.loc[rng.choice(rows, 8, replace=False), "city"] = None
    return frame


def churn(rows: int = 200, seed: int = 1) -> pd.DataFrame:
    """Customer churn: a binary 0/1 target with integer labels."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 72, rows)
    plan = rng.choice(["basic", "plus", "pro"], rows)
    churned = ((tenure < 30) ^ (rng.random(rows) < 0.1)).astype(int)
    return pd.DataFrame({"tenure_months": tenure, "plan": plan, "churned": churned})


# The houses table as `-S` overrides select it (after add_own_files).
HOUSE_DATA = ["data=csv", "data.path=data/external/houses.csv", "data.target=price"]


def add_own_files(repo: Path) -> None:
    """houses.csv and churn.parquet in data/external/, versioned by DVC and committed."""
    from .helpers import run

    (repo / "data/external").mkdir(parents=True, exist_ok=True)
    houses().to_csv(repo / "data/external/houses.csv", index=False)
    churn().to_parquet(repo / "data/external/churn.parquet", index=False)
    run(repo, "dvc", "add", "data/external/houses.csv", "data/external/churn.parquet")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "our own data, versioned by DVC")
