#!/usr/bin/env python
from govshare.cli import main

if __name__ == "__main__":
    main()
