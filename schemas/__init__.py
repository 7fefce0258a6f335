"""What TikTok sends, as data: `studio_files` (the Studio export kinds, their exact headers and our
column names), `studio_contracts` (one pandera contract per Studio file kind) and `api_contracts` (one
per raw TikTok API table). The contracts are the one definition of the raw tables' columns: the
warehouse DDL is generated from them. Imports nothing of ours.
"""
