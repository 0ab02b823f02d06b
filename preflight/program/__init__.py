"""Running a Pulumi program as the CLI would, with no CLI: stack files and config as the CLI hands
them over, `secure:` values, and the program under Pulumi's mock runtime in preview fidelity."""
