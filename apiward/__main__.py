from apiward.cli import main

main()
