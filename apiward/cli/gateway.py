"""``apiward gateway``: run the security gateway in front of the APIs of the config file."""

from __future__ import annotations

import sys

import click

from apiward.cli import cli
from apiward.config import find_config, load_config
from apiward.config.gateway import GatewaySection, parse_listen
from apiward.errors import ConfigError, UsageError


def _section(path: str | None, listen: str | None) -> GatewaySection:
    cfg = load_config(path)
    section = cfg.gateway
    if listen is not None:
        try:
            parse_listen(listen)
        except ValueError as exc:
            raise UsageError(f"--listen: {exc}") from None
        section = section.model_copy(update={"listen": listen})
    return section


@cli.command("gateway")
@click.option(
    "-c",
    "--config",
    "config_path",
    metavar="FILE",
    help="apiward.yaml with a gateway: section (default: ./apiward.yaml).",
)
@click.option("--listen", metavar="HOST:PORT", help="Serve on this address instead of listen:.")
@click.option(
    "--check",
    is_flag=True,
    help="Validate the config, load every spec and build every policy, then exit.",
)
def gateway_command(config_path: str | None, listen: str | None, check: bool) -> None:
    """Protect APIs: a reverse proxy that enforces their OpenAPI documents.

    Every request is matched to an operation of its API's spec (unknown paths and
    methods refused), authenticated and authorised per the spec's security, rate
    limited, validated, and its response filtered to what the schema declares; each
    one is written to a hash-chained audit log. Metrics, health, reload and API keys
    are on the admin listener (see docs/gateway.md).

    \b
    Examples:
      apiward gateway --config apiward.yaml
      apiward gateway --check            # validate and build, then exit
      kill -HUP <pid>                    # reload the config (kept if the new one is bad)

    Exit codes: 0 stopped cleanly, 2 config error, 1 a listener could not start.
    """
    from apiward.gateway.app import Gateway
    from apiward.gateway.server import configure, serve

    path = config_path or find_config()
    if path is None:
        raise ConfigError("no config file: pass --config or create apiward.yaml")
    section = _section(path, listen)
    configure(section)
    gateway = Gateway(section, reload_from=lambda: _section(path, listen))
    if check:
        for api in gateway.apis:
            names = ", ".join(p.name for p in api.app.policies)
            ops = len(api.app.operations)
            click.echo(f"{api.name}: {ops} operations -> {', '.join(api.section.upstream.targets)}")
            click.echo(f"  policies: {names}")
            for scheme in api.unconfigured_schemes:
                click.echo(
                    f"  warning: scheme {scheme!r} has no authenticator: requests that "
                    "need it are refused"
                )
        click.echo("config ok")
        return
    sys.exit(serve(gateway, config_path=path))
