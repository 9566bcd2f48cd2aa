"""The config a container loads: a mounted directory (TOCSIN_CONFIG_DIR) while it holds YAML,
else the examples baked into the image (TOCSIN_CONFIG_FALLBACK); chosen again at each reload."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from bot.config.location import config_dir_in_use
from bot.config.settings import Settings
from bot.runtime import CatalogSource

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "escalation_policies"


def touch_later(path: Path, text: str) -> None:
    """Write `path` with an mtime the reload cannot mistake for the one before."""
    before = path.stat().st_mtime if path.exists() else 0.0
    path.write_text(text)
    os.utime(path, (before + 10, before + 10))


class TestConfigVolume:
    def test_an_empty_or_missing_mount_falls_back_and_a_filled_one_wins(
        self, tmp_path: Path
    ) -> None:
        """Empty, missing or dotfiles only: the fallback; one YAML file: the mount."""
        mount = tmp_path / "config"
        assert config_dir_in_use(mount, EXAMPLES) == EXAMPLES  # not there
        mount.mkdir()
        (mount / ".keep.yaml").write_text("")
        assert config_dir_in_use(mount, EXAMPLES) == EXAMPLES  # a dotfile only
        (mount / "payments.yaml").write_text("name: payments\n")
        assert config_dir_in_use(mount, EXAMPLES) == mount
        assert config_dir_in_use(tmp_path / "none", None) == tmp_path / "none"  # no fallback

    def test_the_settings_read_both_variables(self, tmp_path: Path) -> None:
        """TOCSIN_CONFIG_DIR and TOCSIN_CONFIG_FALLBACK give the directory in use."""
        env = {"TOCSIN_CONFIG_DIR": str(tmp_path), "TOCSIN_CONFIG_FALLBACK": str(EXAMPLES)}
        assert Settings.from_env(env).config_in_use == EXAMPLES
        assert Settings.from_env({}).config_in_use == Path("escalation_policies")

    def test_the_running_catalog_follows_the_mount_and_its_edits(self, tmp_path: Path) -> None:
        """Starting on the baked-in examples, a mount filled later is loaded, an edit in it is
        hot-reloaded, and emptying it goes back to the examples."""
        mount = tmp_path / "config"
        mount.mkdir()
        source = CatalogSource(mount, EXAMPLES)
        assert set(source().policies) == {"payments", "platform"}
        for name in ("severities.yaml", "schedules.yaml", "platform.yaml"):
            shutil.copy(EXAMPLES / name, mount / name)
        assert set(source().policies) == {"platform"}
        platform = (mount / "platform.yaml").read_text()
        touch_later(mount / "platform.yaml", platform.replace("name: platform", "name: infra"))
        assert set(source().policies) == {"infra"}
        for path in mount.iterdir():
            path.unlink()
        assert set(source().policies) == {"payments", "platform"}

    def test_a_source_that_rechecks_once_a_while_sees_an_edit_at_its_next_look(
        self, tmp_path: Path
    ) -> None:
        """With `recheck_s` (the web process), the files are not looked at again inside it:
        an edit is loaded at the first call after it has passed."""
        for name in ("severities.yaml", "schedules.yaml", "platform.yaml"):
            shutil.copy(EXAMPLES / name, tmp_path / name)
        source = CatalogSource(tmp_path, recheck_s=3600)
        platform = (tmp_path / "platform.yaml").read_text()
        touch_later(tmp_path / "platform.yaml", platform.replace("name: platform", "name: infra"))
        assert set(source().policies) == {"platform"}  # inside the hour: not looked at
        source._checked -= 3600  # the hour has passed
        assert set(source().policies) == {"infra"}


class TestDockerfile:
    def test_the_image_reads_a_mounted_config_with_the_baked_in_one_as_fallback(self) -> None:
        """/config is where a volume goes; the image's own examples stand in while it is empty;
        the README shows the docker run line."""
        dockerfile = (ROOT / "Dockerfile").read_text()
        assert "TOCSIN_CONFIG_DIR=/config" in dockerfile
        assert "TOCSIN_CONFIG_FALLBACK=/app/escalation_policies" in dockerfile
        assert "docker run -v ./escalation_policies:/config" in (ROOT / "README.md").read_text()
