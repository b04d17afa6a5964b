"""The repository's git settings: config values, remotes and attributes."""

from __future__ import annotations

import pygit2

from ..errors import GitCommandError


class GitConfig:
    """git config (all levels for reading, the repository's own for writing), the
    remotes, and .gitattributes, of one repository."""

    def __init__(self, repo: pygit2.Repository) -> None:
        self.repo = repo

    def get(self, name: str) -> str | None:
        """One value of the repository's git config (all levels), or None."""
        config = self.repo.config
        if name not in config:
            return None
        return str(config[name])

    def set(self, name: str, value: str) -> None:
        """Set a value in the repository's own config (.git/config)."""
        self.repo.config[name] = value

    def unset(self, name: str) -> None:
        """Remove a value from the repository's own config, if it is there."""
        config = self.repo.config
        if name in config:
            del config[name]

    def names(self, prefix: str) -> dict[str, str]:
        """Config entries whose name starts with `prefix`, name -> value."""
        return {
            entry.name: entry.value
            for entry in self.repo.config
            if entry.name.startswith(prefix) and entry.value is not None
        }

    def remote_urls(self) -> dict[str, str]:
        """The git remotes of the repository, name -> URL."""
        return {str(remote.name): remote.url or "" for remote in self.repo.remotes}

    def remote_places(self) -> dict[str, list[str]]:
        """Every URL each git remote reads from or pushes to (`url`, `pushurl`)."""
        return {
            str(remote.name): [u for u in (remote.url, remote.push_url) if u]
            for remote in self.repo.remotes
        }

    def add_remote(self, name: str, url: str, fetchspec: str) -> None:
        """A new remote; GitCommandError with libgit2's reason when it cannot be added."""
        try:
            self.repo.remotes.create(name, url, fetchspec)
        except pygit2.GitError as e:
            raise GitCommandError(str(e)) from None

    def remove_remote(self, name: str) -> None:
        """Delete a remote with its config and its remote-tracking refs."""
        self.repo.remotes.delete(name)

    def attribute(self, path: str, name: str) -> str | bool | None:
        """The git attribute `name` of `path` as .gitattributes set it (True for a bare `diff`)."""
        value: str | bool | None = self.repo.get_attr(path, name)
        return value
